//! # Ferrolite kernel DSL macros
//!
//! A kernel is written once, in a restricted subset of Rust generic over the ISA token
//! (`V: Simd`), and these macros expand it into every variant:
//!
//! - `#[stage]` on a function: the per-work-item body of a kernel. Expands into the Rust body
//!   (compiled for each ISA inside that ISA's `#[target_feature]` context through
//!   `Simd::vectorize`), a `launch` function that runs every work-item on the session's
//!   threads with each output split into per-work-item chunks, and the OpenCL C translation
//!   (one work-item per output tile).
//! - `#[dsl_fn]` on a function: a helper callable from stages, expanded into Rust and an
//!   OpenCL C function.
//!
//! The macros know no operator or algorithm by name. Misuse is a compile error pointing at
//! the offending token and saying what is allowed. The subset is documented in
//! `docs/authoring-kernels.md`.

mod algorithm;
mod stage;
mod subset;

use proc_macro::TokenStream;

/// Marks a kernel stage. See the crate documentation.
#[proc_macro_attribute]
pub fn stage(attr: TokenStream, item: TokenStream) -> TokenStream {
    let debug = match parse_flags(attr) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error().into(),
    };
    let f = match syn::parse::<syn::ItemFn>(item) {
        Ok(f) => f,
        Err(e) => return syn::Error::new(e.span(), "#[stage] applies to a function").to_compile_error().into(),
    };
    let out = stage::expand_stage(f);
    if debug {
        eprintln!("{out}");
    }
    out.into()
}

/// Marks a helper function callable from stages. See the crate documentation.
#[proc_macro_attribute]
pub fn dsl_fn(attr: TokenStream, item: TokenStream) -> TokenStream {
    let debug = match parse_flags(attr) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error().into(),
    };
    let f = match syn::parse::<syn::ItemFn>(item) {
        Ok(f) => f,
        Err(e) => return syn::Error::new(e.span(), "#[dsl_fn] applies to a function").to_compile_error().into(),
    };
    let out = stage::expand_helper(f);
    if debug {
        eprintln!("{out}");
    }
    out.into()
}

/// `debug` prints the expansion at compile time; nothing else is accepted.
fn parse_flags(attr: TokenStream) -> syn::Result<bool> {
    let attr = proc_macro2::TokenStream::from(attr);
    if attr.is_empty() {
        return Ok(false);
    }
    let ident: syn::Ident = syn::parse2(attr.clone())
        .map_err(|_| syn::Error::new_spanned(&attr, "the only option is `debug` (prints the expansion)"))?;
    if ident != "debug" {
        return Err(syn::Error::new_spanned(ident, "the only option is `debug` (prints the expansion)"));
    }
    Ok(true)
}

/// Declares one algorithm of one operator on an inline module; expands into a registry entry
/// per variant (target x compile-time parameter values). See the crate documentation.
#[proc_macro_attribute]
pub fn algorithm(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = match syn::parse::<algorithm::AlgorithmAttr>(attr) {
        Ok(a) => a,
        Err(e) => return e.to_compile_error().into(),
    };
    let module = match syn::parse::<syn::ItemMod>(item) {
        Ok(m) => m,
        Err(e) => return syn::Error::new(e.span(), "#[algorithm] applies to an inline module").to_compile_error().into(),
    };
    algorithm::expand(attr, module).into()
}
