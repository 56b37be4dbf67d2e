//! `#[stage]` and `#[dsl_fn]`: parse the signature, check the body against the subset,
//! and expand into the Rust body (generic over the ISA token), the work-item launcher and
//! the OpenCL C translation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, GenericParam, Ident, ItemFn, Pat, ReturnType, Type};

use crate::subset::{Checker, HelperSig, Ty, c_helper, c_ident, c_len, opencl_prelude, parse_type};

/// What a stage parameter is.
#[derive(Debug, Clone)]
pub enum ParamKind {
    /// `gid: usize`.
    Gid,
    /// `&mut [f32]`: the work-item's chunk of an output.
    Output,
    /// `&[f32]`: a whole input buffer.
    Input,
    /// A scalar.
    Scalar(Ty),
}

/// One parameter of a stage or helper.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: Ident,
    pub ty: Type,
    pub kind: ParamKind,
}

/// The parsed generics and parameters of a stage or helper.
pub struct Signature {
    pub v: Ident,
    /// The type parameter as written (`V: Simd`).
    pub v_param: syn::TypeParam,
    pub consts: Vec<Ident>,
    pub params: Vec<Param>,
    pub ret: Ty,
}

/// Parses `fn name<V: Simd, const A: usize, ...>(params) [-> T]`, collecting errors.
pub fn parse_signature(f: &ItemFn, is_stage: bool, errors: &mut Vec<syn::Error>) -> Option<Signature> {
    let sig = &f.sig;
    let mut v = None;
    let mut v_param = None;
    let mut consts = Vec::new();
    for (i, g) in sig.generics.params.iter().enumerate() {
        match g {
            GenericParam::Type(t) if i == 0 => {
                let bound_ok = t.bounds.len() == 1
                    && matches!(t.bounds.first(), Some(syn::TypeParamBound::Trait(tb)) if tb.path.segments.last().is_some_and(|s| s.ident == "Simd"));
                if !bound_ok {
                    errors.push(syn::Error::new_spanned(t, "the first generic parameter must be `V: Simd`"));
                }
                v = Some(t.ident.clone());
                v_param = Some(t.clone());
            }
            GenericParam::Const(c) => {
                if !matches!(&c.ty, Type::Path(p) if p.path.is_ident("usize")) {
                    errors.push(syn::Error::new_spanned(&c.ty, "const parameters of a kernel are `usize`"));
                }
                consts.push(c.ident.clone());
            }
            other => errors.push(syn::Error::new_spanned(
                other,
                "generics of a kernel: first `V: Simd`, then `const NAME: usize` parameters",
            )),
        }
    }
    let (Some(v), Some(v_param)) = (v, v_param) else {
        errors.push(syn::Error::new_spanned(&sig.ident, "a kernel function needs a first generic parameter `V: Simd`"));
        return None;
    };
    if let Some(w) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(w, "`where` clauses are not allowed on a kernel"));
    }
    let qualifier: Option<proc_macro2::Span> = sig.constness.map(|t| t.span)
        .or(sig.asyncness.map(|t| t.span))
        .or(sig.unsafety.map(|t| t.span))
        .or(sig.abi.as_ref().map(|a| a.extern_token.span));
    if let Some(span) = qualifier {
        errors.push(syn::Error::new(span, "a kernel function is a plain `fn` (not const, async, unsafe or extern)"));
    }
    let ret = match &sig.output {
        ReturnType::Default => Ty::Unit,
        ReturnType::Type(_, t) => match parse_type(t, &v) {
            Ok(t @ (Ty::F32 | Ty::Vector | Ty::Usize | Ty::Isize | Ty::I32 | Ty::Bool)) => t,
            Ok(_) => {
                errors.push(syn::Error::new_spanned(t, "a helper returns a scalar or V::F32"));
                Ty::Unit
            }
            Err(e) => {
                errors.push(e);
                Ty::Unit
            }
        },
    };
    if is_stage && ret != Ty::Unit {
        errors.push(syn::Error::new_spanned(&sig.output, "a stage returns nothing: it writes its output chunks"));
    }
    let mut params = Vec::new();
    for (i, arg) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = arg else {
            errors.push(syn::Error::new_spanned(arg, "`self` is not allowed"));
            continue;
        };
        let Pat::Ident(pi) = &*pt.pat else {
            errors.push(syn::Error::new_spanned(&pt.pat, "parameters are plain names"));
            continue;
        };
        if pi.mutability.is_some() {
            errors.push(syn::Error::new_spanned(pi, "parameters cannot be `mut`; copy into a `let mut` local"));
        }
        let name = pi.ident.clone();
        let ty = match parse_type(&pt.ty, &v) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let kind = match (&ty, is_stage, i) {
            (Ty::Usize, true, 0) if name == "gid" => ParamKind::Gid,
            (_, true, 0) => {
                errors.push(syn::Error::new_spanned(&pt.pat, "the first parameter of a stage is `gid: usize` (the work-item index)"));
                // Classified by its type below, so the other checks do not report it again.
                match ty {
                    Ty::Slice { mutable: true } => ParamKind::Output,
                    Ty::Slice { mutable: false } => ParamKind::Input,
                    _ => ParamKind::Scalar(ty.clone()),
                }
            }
            (Ty::Slice { mutable: true }, _, _) => ParamKind::Output,
            (Ty::Slice { mutable: false }, _, _) => ParamKind::Input,
            (Ty::Usize | Ty::Isize | Ty::I32 | Ty::F32 | Ty::Bool, _, _) => ParamKind::Scalar(ty.clone()),
            (Ty::Vector, false, _) => ParamKind::Scalar(ty.clone()),
            _ => {
                errors.push(syn::Error::new_spanned(&pt.ty, "stage parameters: `gid: usize`, outputs `&mut [f32]`, inputs `&[f32]`, scalars usize/isize/i32/f32/bool"));
                continue;
            }
        };
        params.push(Param { name, ty: (*pt.ty).clone(), kind });
    }
    if is_stage {
        // Order: gid, outputs, inputs, scalars.
        let rank = |k: &ParamKind| match k {
            ParamKind::Gid => 0,
            ParamKind::Output => 1,
            ParamKind::Input => 2,
            ParamKind::Scalar(_) => 3,
        };
        for w in params.windows(2) {
            if rank(&w[1].kind) < rank(&w[0].kind) {
                errors.push(syn::Error::new_spanned(&w[1].name, "stage parameters go in this order: `gid`, outputs (`&mut [f32]`), inputs (`&[f32]`), scalars"));
                break;
            }
        }
        let outs = params.iter().filter(|p| matches!(p.kind, ParamKind::Output)).count();
        if outs == 0 || outs > 2 {
            errors.push(syn::Error::new_spanned(&sig.inputs, format!("a stage writes one or two outputs (`&mut [f32]`), this one has {outs}")));
        }
    }
    Some(Signature { v, v_param, consts, params, ret })
}

/// Rewrites a body for Rust: `V::op(args)` becomes `__simd.op(args)` and a helper call
/// `f(args)` becomes `f(__simd, args)`.
struct TokenThreading {
    v: String,
}

impl VisitMut for TokenThreading {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        if let Expr::Call(call) = e {
            if let Expr::Path(p) = &*call.func {
                let segs: Vec<_> = p.path.segments.iter().collect();
                if segs.len() == 2 && segs[0].ident == self.v {
                    let method = segs[1].ident.clone();
                    let args = call.args.clone();
                    *e = syn::parse_quote_spanned!(method.span()=> __simd.#method(#args));
                } else if segs.len() == 1 {
                    call.args.insert(0, syn::parse_quote!(__simd));
                }
            }
        }
    }
}

/// The C declaration of a helper parameter list or a kernel's scalar.
fn c_param(p: &Param) -> String {
    let name = p.name.to_string();
    let (cname, clen) = (c_ident(&name), c_len(&name));
    match &p.kind {
        ParamKind::Gid => String::new(),
        ParamKind::Output => format!("__global float* {cname}, const int {clen}"),
        ParamKind::Input => format!("__global const float* {cname}, const int {clen}"),
        ParamKind::Scalar(t) => {
            let c = match t {
                Ty::F32 => "float",
                Ty::Vector => "floatV",
                _ => "int",
            };
            format!("const {c} {cname}")
        }
    }
}

/// Checks a function body, returning the OpenCL C text of the function and the helpers it
/// calls, or the errors.
fn check_body(f: &ItemFn, sig: &Signature, errors: &mut Vec<syn::Error>) -> (String, Vec<String>) {
    let consts: Vec<String> = sig.consts.iter().map(|c| c.to_string()).collect();
    let mut ck = Checker::new(sig.v.clone(), consts, sig.ret.clone());
    for p in &sig.params {
        let ty = match &p.kind {
            ParamKind::Gid => Ty::Usize,
            ParamKind::Output => Ty::Slice { mutable: true },
            ParamKind::Input => Ty::Slice { mutable: false },
            ParamKind::Scalar(t) => t.clone(),
        };
        ck.declare(&p.name.to_string(), ty, false);
    }
    ck.block(&f.block);
    errors.append(&mut ck.errors);
    (ck.c, ck.helpers_used.into_iter().collect())
}

/// Expands `#[stage]`.
pub fn expand_stage(f: ItemFn) -> TokenStream {
    let mut errors = Vec::new();
    let Some(sig) = parse_signature(&f, true, &mut errors) else { return combine(errors) };
    let (body_c, helpers) = check_body(&f, &sig, &mut errors);
    if !errors.is_empty() {
        return combine(errors);
    }
    let name = &f.sig.ident;
    let vis = &f.vis;
    let attrs = &f.attrs;
    let v = &sig.v;
    let v_param = &sig.v_param;
    let consts = &sig.consts;

    // The Rust body, generic over the token.
    let mut body = f.block.clone();
    TokenThreading { v: v.to_string() }.visit_block_mut(&mut body);
    let params_rs: Vec<TokenStream> = sig.params.iter().map(|p| {
        let (n, t) = (&p.name, &p.ty);
        quote!(#n: #t)
    }).collect();

    // The launcher: outputs come as (buffer, chunk length); the work-item gets its chunk.
    let outs: Vec<&Param> = sig.params.iter().filter(|p| matches!(p.kind, ParamKind::Output)).collect();
    let rest: Vec<&Param> = sig.params.iter().filter(|p| matches!(p.kind, ParamKind::Input | ParamKind::Scalar(_))).collect();
    let out_names: Vec<&Ident> = outs.iter().map(|p| &p.name).collect();
    let rest_names: Vec<&Ident> = rest.iter().map(|p| &p.name).collect();
    let rest_tys: Vec<TokenStream> = rest
        .iter()
        .map(|p| match p.kind {
            ParamKind::Input => quote!(&'a [f32]),
            _ => {
                let t = &p.ty;
                quote!(#t)
            }
        })
        .collect();
    let rest_launch: Vec<TokenStream> = rest.iter().map(|p| {
        let n = &p.name;
        match p.kind { ParamKind::Input => quote!(#n: &[f32]), _ => { let t = &p.ty; quote!(#n: #t) } }
    }).collect();
    let chunk_names: Vec<Ident> = out_names.iter().map(|n| format_ident!("{}_chunk", n)).collect();
    let iterate = if outs.len() == 1 {
        let (o, c) = (out_names[0], &chunk_names[0]);
        quote! {
            par.for_each_chunk_mut(#o, #c, |gid, #o| {
                simd.vectorize(Item::<#(#consts),*> { gid, #o, #(#rest_names),* })
            });
        }
    } else {
        let (o0, c0, o1, c1) = (out_names[0], &chunk_names[0], out_names[1], &chunk_names[1]);
        quote! {
            par.for_each_chunk_pair_mut(#o0, #c0, #o1, #c1, |gid, #o0, #o1| {
                simd.vectorize(Item::<#(#consts),*> { gid, #o0, #o1, #(#rest_names),* })
            });
        }
    };

    // OpenCL C kernel.
    let mut c = String::new();
    // Kernel parameters: `grid`, then per output (buffer, offset, total length, chunk
    // length), per input (buffer, offset, length), then the scalars. Names derived from a
    // parameter `y` are `y_buf`, `y_off`, ...: see `subset::c_ident` for why they cannot
    // collide with anything.
    let mut args = vec!["const int grid".to_string()];
    let gid = sig.params.iter().find(|p| matches!(p.kind, ParamKind::Gid)).map(|p| c_ident(&p.name.to_string()));
    let gid = gid.unwrap_or_else(|| c_ident("gid"));
    for p in &sig.params {
        let n = c_ident(&p.name.to_string());
        match p.kind {
            ParamKind::Gid => {}
            ParamKind::Output => args.push(format!(
                "__global float* {n}buf, const int {n}off, const int {n}total, const int {n}chunk"
            )),
            ParamKind::Input => args.push(format!("__global const float* {n}buf, const int {n}off, const int {n}len")),
            ParamKind::Scalar(_) => args.push(c_param(p)),
        }
    }
    c.push_str(&format!("__kernel void {name}({}) {{\n", args.join(", ")));
    c.push_str(&format!("    const int {gid} = get_global_id(0);\n    if ({gid} >= grid) return;\n"));
    for p in &sig.params {
        let n = c_ident(&p.name.to_string());
        match p.kind {
            // The work-item's chunk of the output, as on the CPU: elements
            // [gid * chunk, min((gid + 1) * chunk, total)).
            ParamKind::Output => c.push_str(&format!(
                "    __global float* {n} = {n}buf + {n}off + {gid} * {n}chunk;\n    const int {n}len = min({n}chunk, {n}total - {gid} * {n}chunk);\n"
            )),
            ParamKind::Input => c.push_str(&format!("    __global const float* {n} = {n}buf + {n}off;\n")),
            _ => {}
        }
    }
    c.push_str(&body_c);
    c.push_str("}\n");
    let const_names: Vec<String> = sig.consts.iter().map(|c| c.to_string()).collect();
    let helper_idents: Vec<Ident> = helpers.iter().map(|h| format_ident!("{}", h)).collect();
    let doc_src = format!("OpenCL C of the `{name}` stage (without the prelude and helpers).");
    let prelude = opencl_prelude();

    // The OpenCL launcher: buffers are named by their `Buf` descriptors, scalars keep their
    // Rust types (converted, checked, to the kernel's `int` / `float`), and the const
    // parameters become `-DNAME=value` build options.
    let ins: Vec<&Param> = sig.params.iter().filter(|p| matches!(p.kind, ParamKind::Input)).collect();
    let scalars: Vec<&Param> = sig.params.iter().filter(|p| matches!(p.kind, ParamKind::Scalar(_))).collect();
    let in_names: Vec<&Ident> = ins.iter().map(|p| &p.name).collect();
    let scalar_names: Vec<&Ident> = scalars.iter().map(|p| &p.name).collect();
    let scalar_tys: Vec<&Type> = scalars.iter().map(|p| &p.ty).collect();
    let scalar_strs: Vec<String> = scalar_names.iter().map(|n| n.to_string()).collect();
    let name_str = name.to_string();
    let n_scalars = scalars.len();

    quote! {
        #(#attrs)*
        #[inline(always)]
        #[allow(clippy::too_many_arguments, clippy::needless_range_loop, unused_mut, unused_variables)]
        #vis fn #name<#v_param, #(const #consts: usize),*>(__simd: #v, #(#params_rs),*) #body

        #[allow(non_snake_case, clippy::too_many_arguments)]
        #[doc = concat!("Launching and OpenCL source of the `", stringify!(#name), "` stage.")]
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;

            #[doc = #doc_src]
            pub const OPENCL_KERNEL: &str = #c;
            /// Names of the const parameters, passed to the OpenCL compiler as `-DNAME=value`.
            pub const CONST_PARAMS: &[&str] = &[#(#const_names),*];

            /// The complete OpenCL C program: prelude, the helpers this stage calls (and the
            /// helpers they call, each once, callees first), the kernel.
            pub fn opencl_source() -> ::std::string::String {
                let mut helpers: ::std::vec::Vec<&'static str> = ::std::vec::Vec::new();
                #( #helper_idents::collect_opencl(&mut helpers); )*
                let mut s = ::std::string::String::from(PRELUDE);
                for h in helpers {
                    s.push_str(h);
                }
                s.push_str(OPENCL_KERNEL);
                s
            }

            /// [`opencl_source`], made once per process: launches look programs up by source.
            fn opencl_source_cached() -> &'static str {
                static SOURCE: ::std::sync::OnceLock<::std::string::String> = ::std::sync::OnceLock::new();
                SOURCE.get_or_init(opencl_source)
            }

            /// Runs the stage's OpenCL kernel on the device buffers of one kernel call: one
            /// work-item per output chunk (`<output>_chunk` elements), built with the const
            /// parameters as `-DNAME=value`. Errors (a bad buffer range, overlapping outputs,
            /// a scalar that does not fit an OpenCL `int`, anything OpenCL reports) come back
            /// as errors.
            #[allow(clippy::too_many_arguments)]
            pub fn launch_opencl<#(const #consts: usize),*>(
                cl: &mut ::ferrolite_dsl::opencl::ClBuffers<'_>,
                #(#out_names: ::ferrolite_dsl::launch::Buf, #chunk_names: usize,)*
                #(#in_names: ::ferrolite_dsl::launch::Buf,)*
                #(#scalar_names: #scalar_tys,)*
            ) -> ::ferrolite_dsl::Result<()> {
                let options: ::std::vec::Vec<::std::string::String> =
                    ::std::vec![#(::std::format!("-D{}={}", #const_names, #consts)),*];
                let scalars: [::ferrolite_dsl::opencl::ClScalar; #n_scalars] =
                    [#(::ferrolite_dsl::opencl::IntoClScalar::into_cl(#scalar_names, #scalar_strs)?),*];
                cl.launch(
                    #name_str,
                    opencl_source_cached(),
                    &options.join(" "),
                    &[#((#out_names, #chunk_names)),*],
                    &[#(#in_names),*],
                    &scalars,
                )
            }

            const PRELUDE: &str = #prelude;

            struct Item<'a, #(const #consts: usize),*> {
                gid: usize,
                #(#out_names: &'a mut [f32],)*
                #(#rest_names: #rest_tys,)*
            }

            impl<'a, #(const #consts: usize),*> ::ferrolite_targets::WithSimd for Item<'a, #(#consts),*> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: ::ferrolite_targets::Simd>(self, simd: S) {
                    super::#name::<S, #(#consts),*>(simd, self.gid, #(self.#out_names,)* #(self.#rest_names),*)
                }
            }

            /// Runs every work-item on the session's threads: each output is split into chunks
            /// of `<name>_chunk` elements, work-item `gid` gets chunk `gid` of each.
            #[allow(clippy::too_many_arguments)]
            pub fn launch<V: ::ferrolite_targets::Simd, #(const #consts: usize),*>(
                simd: V,
                par: &::ferrolite_dsl::kernel::Parallel<'_>,
                #(#out_names: &mut [f32], #chunk_names: usize,)*
                #(#rest_launch),*
            ) {
                #iterate
            }
        }
    }
}

/// Expands `#[dsl_fn]`: a helper callable from stages.
pub fn expand_helper(f: ItemFn) -> TokenStream {
    let mut errors = Vec::new();
    let Some(sig) = parse_signature(&f, false, &mut errors) else { return combine(errors) };
    let (body_c, helpers) = check_body(&f, &sig, &mut errors);
    if !errors.is_empty() {
        return combine(errors);
    }
    let name = &f.sig.ident;
    let vis = &f.vis;
    let attrs = &f.attrs;
    let v = &sig.v;
    let v_param = &sig.v_param;
    let consts = &sig.consts;
    let output = &f.sig.output;
    let mut body = f.block.clone();
    TokenThreading { v: v.to_string() }.visit_block_mut(&mut body);
    let params_rs: Vec<TokenStream> = sig.params.iter().map(|p| {
        let (n, t) = (&p.name, &p.ty);
        quote!(#n: #t)
    }).collect();
    let ret_c = match sig.ret {
        Ty::Unit => "void",
        Ty::F32 => "float",
        Ty::Vector => "floatV",
        Ty::Bool => "bool",
        _ => "int",
    };
    let cparams: Vec<String> = sig.params.iter().map(c_param).collect();
    let c = format!("inline {ret_c} {}({}) {{\n{body_c}}}\n", c_helper(&name.to_string()), cparams.join(", "));
    // A helper calling itself is refused by the OpenCL compiler (no recursion); it must
    // not make `collect_opencl` recurse forever first.
    let dep_idents: Vec<Ident> = helpers.iter().filter(|h| **h != name.to_string()).map(|h| format_ident!("{}", h)).collect();
    let _ = HelperSig { ret: sig.ret.clone() };
    quote! {
        #(#attrs)*
        #[inline(always)]
        #[allow(clippy::too_many_arguments, unused_mut)]
        #vis fn #name<#v_param, #(const #consts: usize),*>(__simd: #v, #(#params_rs),*) #output #body

        #[allow(non_snake_case)]
        #[doc = concat!("OpenCL C of the `", stringify!(#name), "` helper.")]
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;

            /// The helper as an OpenCL C function.
            pub const OPENCL: &str = #c;

            /// Appends the OpenCL C of the helpers this one calls, then this one's, to `out`,
            /// each at most once (C needs a function defined before its first call).
            pub fn collect_opencl(out: &mut ::std::vec::Vec<&'static str>) {
                #( #dep_idents::collect_opencl(out); )*
                if !out.contains(&OPENCL) {
                    out.push(OPENCL);
                }
            }
        }
    }
}

/// Combines collected errors into one `compile_error!` stream.
pub fn combine(errors: Vec<syn::Error>) -> TokenStream {
    let mut it = errors.into_iter();
    let Some(mut first) = it.next() else { return TokenStream::new() };
    for e in it {
        first.combine(e);
    }
    first.to_compile_error()
}

