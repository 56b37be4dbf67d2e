//! `#[algorithm(...)]` on an inline module: the declaration of one algorithm of one
//! operator, expanded into a registry entry (a `KernelFactory`) per variant: every target
//! listed times every combination of compile-time parameter values.
//!
//! Every variant is declared (`KernelRegistry::declare`) in every build; its factory is
//! registered only where its ISA exists and, in a build pruned with `FERROLITE_PROFILE`,
//! only if the profile picks it or it is a default-parameter fallback on a kept ISA (the
//! `cfg`s `ferrolite_pruned`, `ferrolite_keep` and `ferrolite_keep_isa` set by
//! `kernels/build.rs`).

use std::collections::BTreeMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Item, ItemConst, ItemFn, ItemMod, LitInt, LitStr, Token};

use crate::stage::combine;

const TARGETS: [&str; 5] = ["scalar", "avx2", "avx512f", "neon", "opencl"];

/// One listed combination of compile-time parameter values, with its span for errors.
type Combo = (Span, Vec<usize>);

/// The attribute's arguments.
pub struct AlgorithmAttr {
    debug: bool,
    op: Option<Ident>,
    sig: Option<syn::Path>,
    name: Option<LitStr>,
    targets: Vec<Ident>,
    priority: Option<LitInt>,
    applies: Vec<(Ident, Expr)>,
    /// `combos([a, b], ...)`: the compile-parameter combinations to generate (in the order
    /// the parameters are declared), instead of every combination.
    combos: Option<(Span, Vec<Combo>)>,
    span: Span,
}

impl Parse for AlgorithmAttr {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut a = AlgorithmAttr {
            debug: false,
            op: None,
            sig: None,
            name: None,
            targets: Vec::new(),
            priority: None,
            applies: Vec::new(),
            combos: None,
            span: Span::call_site(),
        };
        let mut errors: Vec<syn::Error> = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "debug" => a.debug = true,
                "op" => {
                    input.parse::<Token![=]>()?;
                    a.op = Some(input.parse()?);
                }
                "sig" => {
                    input.parse::<Token![=]>()?;
                    a.sig = Some(input.parse()?);
                }
                "name" => {
                    input.parse::<Token![=]>()?;
                    let n: LitStr = input.parse()?;
                    let ok = !n.value().is_empty() && n.value().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if !ok {
                        errors.push(syn::Error::new_spanned(&n, "an algorithm name is lower-case letters, digits and `_` (it becomes part of variant ids)"));
                    }
                    a.name = Some(n);
                }
                "priority" => {
                    input.parse::<Token![=]>()?;
                    let neg = input.parse::<Option<Token![-]>>()?;
                    let lit: LitInt = input.parse().map_err(|e| syn::Error::new(e.span(), "priority is an integer, e.g. `priority = 10`"))?;
                    a.priority = Some(if neg.is_some() { LitInt::new(&format!("-{}", lit.base10_digits()), lit.span()) } else { lit });
                }
                "targets" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    for t in list {
                        if !TARGETS.contains(&t.to_string().as_str()) {
                            errors.push(syn::Error::new_spanned(&t, format!("unknown target `{t}`; targets are: {}", TARGETS.join(", "))));
                        } else if a.targets.iter().any(|x| *x == t) {
                            errors.push(syn::Error::new_spanned(&t, format!("target `{t}` is listed twice")));
                        } else {
                            a.targets.push(t);
                        }
                    }
                }
                "applies" => {
                    let content;
                    syn::parenthesized!(content in input);
                    while !content.is_empty() {
                        let field: Ident = content.parse()?;
                        content.parse::<Token![=]>()?;
                        let value: Expr = content.parse()?;
                        a.applies.push((field, value));
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                }
                "combos" => {
                    let content;
                    syn::parenthesized!(content in input);
                    let mut list = Vec::new();
                    while !content.is_empty() {
                        let inner;
                        let bracket = syn::bracketed!(inner in content);
                        let values = Punctuated::<LitInt, Token![,]>::parse_terminated(&inner)?
                            .iter()
                            .map(|l| l.base10_parse::<usize>())
                            .collect::<syn::Result<Vec<_>>>()?;
                        list.push((bracket.span.join(), values));
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                    if list.is_empty() {
                        errors.push(syn::Error::new_spanned(&key, "`combos(...)` lists at least one combination, e.g. `combos([6, 2], [12, 1])`"));
                    }
                    a.combos = Some((key.span(), list));
                }
                other => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format!("unknown option `{other}`; options: op, sig, name, targets(...), priority, applies(...), combos(...), debug"),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        if let Some(e) = errors.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        }) {
            return Err(e);
        }
        Ok(a)
    }
}

/// A `#[param(...)]` constant.
struct Param {
    name: Ident,
    compile: bool,
    values: Vec<usize>,
    default: usize,
    id_format: Option<String>,
}

fn parse_param(c: &ItemConst, errors: &mut Vec<syn::Error>) -> Option<Param> {
    let attr = c.attrs.iter().find(|a| a.path().is_ident("param"))?;
    let mut compile = None;
    let mut values = Vec::new();
    let mut id_format = None;
    let res = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("compile") {
            compile = Some(true);
        } else if meta.path.is_ident("runtime") {
            compile = Some(false);
        } else if meta.path.is_ident("values") {
            let content;
            let v = meta.value()?;
            syn::bracketed!(content in v);
            let list = Punctuated::<LitInt, Token![,]>::parse_terminated(&content)?;
            for l in list {
                values.push(l.base10_parse::<usize>()?);
            }
        } else if meta.path.is_ident("id") {
            let s: LitStr = meta.value()?.parse()?;
            if s.value().matches("{}").count() != 1 {
                return Err(syn::Error::new_spanned(&s, "`id` is a format with exactly one `{}` for the value, e.g. \"f{}x3\""));
            }
            id_format = Some(s.value());
        } else {
            return Err(meta.error("expected `compile` or `runtime`, `values = [...]`, `id = \"...\"`"));
        }
        Ok(())
    });
    if let Err(e) = res {
        errors.push(e);
        return None;
    }
    let Some(compile) = compile else {
        errors.push(syn::Error::new_spanned(attr, "say whether the parameter is `compile` (code changes per value) or `runtime` (passed to the variant)"));
        return None;
    };
    if values.is_empty() {
        errors.push(syn::Error::new_spanned(attr, "a parameter needs `values = [...]`, at least one"));
        return None;
    }
    if !matches!(&*c.ty, syn::Type::Path(p) if p.path.is_ident("usize")) {
        errors.push(syn::Error::new_spanned(&c.ty, "parameters are `usize`"));
        return None;
    }
    let default = match &*c.expr {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.base10_parse::<usize>().ok(),
        _ => None,
    };
    let Some(default) = default else {
        errors.push(syn::Error::new_spanned(&c.expr, "the default value is an integer literal"));
        return None;
    };
    if !values.contains(&default) {
        errors.push(syn::Error::new_spanned(&c.expr, format!("the default {default} is not one of the values {values:?}")));
        return None;
    }
    if compile && id_format.is_none() {
        id_format = Some(format!("{}{{}}", c.ident.to_string().to_lowercase()));
    }
    Some(Param { name: c.ident.clone(), compile, values, default, id_format })
}

/// Rewrites `launch!(...)` statements of a schedule into CPU launches (the stage's
/// `launch`) or, with `opencl`, into OpenCL launches (the stage's `launch_opencl`).
struct Launches {
    errors: Vec<syn::Error>,
    opencl: bool,
}

/// A parsed `launch!`.
struct Launch {
    stage: syn::Path,
    outs: Vec<(Expr, Expr)>,
    ins: Vec<Expr>,
    args: Vec<Expr>,
}

impl Parse for Launch {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let stage: syn::Path = input.parse()?;
        let mut l = Launch { stage, outs: Vec::new(), ins: Vec::new(), args: Vec::new() };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let kw: Ident = input.parse()?;
            let content;
            syn::bracketed!(content in input);
            match kw.to_string().as_str() {
                "outs" => {
                    while !content.is_empty() {
                        let buf: Expr = content.parse()?;
                        content.parse::<Token![=>]>()?;
                        let chunk: Expr = content.parse()?;
                        l.outs.push((buf, chunk));
                        if !content.is_empty() {
                            content.parse::<Token![,]>()?;
                        }
                    }
                }
                "ins" => l.ins = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?.into_iter().collect(),
                "args" => l.args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?.into_iter().collect(),
                other => return Err(syn::Error::new_spanned(kw, format!("unknown launch section `{other}`; sections: outs [buf => chunk, ...], ins [buf, ...], args [expr, ...]"))),
            }
        }
        if l.outs.is_empty() {
            return Err(syn::Error::new(input.span(), "a launch needs `outs [buffer => chunk length]`"));
        }
        Ok(l)
    }
}

/// `y`, `y0`, `x1`, `w`, `ws[a..b]` as a `Buf`.
fn buf_expr(e: &Expr) -> syn::Result<TokenStream> {
    let help = "buffers: x / x0, x1, ... (node inputs), y / y0, y1, ... (node outputs; y[a..b] a range of one), w (packed weights), ws[a..b] (workspace range)";
    match e {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let name = p.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let idx = |prefix: &str| -> Option<usize> {
                let rest = name.strip_prefix(prefix)?;
                if rest.is_empty() { Some(0) } else { rest.parse().ok() }
            };
            if name == "w" {
                return Ok(quote!(::ferrolite_dsl::launch::Buf::Packed));
            }
            if let Some(i) = idx("x") {
                return Ok(quote!(::ferrolite_dsl::launch::Buf::Input(#i)));
            }
            if let Some(i) = idx("y") {
                return Ok(quote!(::ferrolite_dsl::launch::Buf::Output(#i)));
            }
            Err(syn::Error::new_spanned(e, help))
        }
        // `y[a..b]`, `y1[a..b]`: a range of a node output.
        Expr::Index(ix)
            if matches!(&*ix.expr, Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
                let n = i.to_string();
                n.strip_prefix('y').is_some_and(|r| r.is_empty() || r.parse::<usize>().is_ok())
            })) =>
        {
            let Expr::Path(p) = &*ix.expr else { return Err(syn::Error::new_spanned(e, help)) };
            let name = p.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            let k: usize = name[1..].parse().unwrap_or(0);
            match &*ix.index {
                Expr::Range(r) if matches!(r.limits, syn::RangeLimits::HalfOpen(_)) => {
                    let start = r.start.as_ref().map(|s| quote!(#s)).unwrap_or(quote!(0));
                    let Some(end) = &r.end else {
                        return Err(syn::Error::new_spanned(r, "output ranges need both ends: y[a..b]"));
                    };
                    Ok(quote!(::ferrolite_dsl::launch::Buf::OutputRange(#k, (#start)..(#end))))
                }
                other => Err(syn::Error::new_spanned(other, "output ranges are written y[a..b]")),
            }
        }
        Expr::Index(ix) if matches!(&*ix.expr, Expr::Path(p) if p.path.is_ident("ws")) => match &*ix.index {
            Expr::Range(r) if matches!(r.limits, syn::RangeLimits::HalfOpen(_)) => {
                let start = r.start.as_ref().map(|s| quote!(#s)).unwrap_or(quote!(0));
                let Some(end) = &r.end else {
                    return Err(syn::Error::new_spanned(r, "workspace ranges need both ends: ws[a..b]"));
                };
                Ok(quote!(::ferrolite_dsl::launch::Buf::Workspace((#start)..(#end))))
            }
            other => Err(syn::Error::new_spanned(other, "workspace buffers are ranges: ws[a..b]")),
        },
        _ => Err(syn::Error::new_spanned(e, help)),
    }
}

impl Launches {
    fn expand(&mut self, mac: &syn::Macro) -> Option<TokenStream> {
        let l: Launch = match mac.parse_body() {
            Ok(l) => l,
            Err(e) => {
                self.errors.push(e);
                return None;
            }
        };
        let mut outs = Vec::new();
        let mut chunks = Vec::new();
        for (b, c) in &l.outs {
            match buf_expr(b) {
                Ok(t) => outs.push(t),
                Err(e) => self.errors.push(e),
            }
            chunks.push(c.clone());
        }
        let mut ins = Vec::new();
        for b in &l.ins {
            match buf_expr(b) {
                Ok(t) => ins.push(t),
                Err(e) => self.errors.push(e),
            }
        }
        if outs.len() > 2 {
            self.errors.push(syn::Error::new_spanned(&mac.tokens, "a stage writes at most two outputs"));
            return None;
        }
        // The stage path `stage::<A, B>` becomes `stage::launch::<V, A, B>`.
        let mut path = l.stage.clone();
        let Some(last) = path.segments.last_mut() else { return None };
        let generics = std::mem::replace(&mut last.arguments, syn::PathArguments::None);
        let consts: Vec<TokenStream> = match generics {
            syn::PathArguments::AngleBracketed(a) => a.args.iter().map(|g| quote!(#g)).collect(),
            syn::PathArguments::None => Vec::new(),
            other => {
                self.errors.push(syn::Error::new_spanned(other, "write the stage as `name` or `name::<CONSTS>`"));
                return None;
            }
        };
        let n_out = outs.len();
        let n_in = ins.len();
        let out_idents: Vec<Ident> = (0..n_out).map(|i| format_ident!("__out{i}")).collect();
        let in_idx: Vec<usize> = (0..n_in).collect();
        let args = &l.args;
        let span = mac.path.span();
        let chunk_idx: Vec<usize> = (0..n_out).collect();
        if self.opencl {
            // Buffers stay descriptors: `launch_opencl` checks them against the device
            // buffers of the run and passes them as (buffer, offset, length).
            return Some(quote_spanned! {span=> {
                #path::launch_opencl::<#(#consts),*>(__cl, #(#outs, #chunks,)* #(#ins,)* #(#args),*)?;
            }});
        }
        Some(quote_spanned! {span=> {
            let __chunks: [usize; #n_out] = [#(#chunks),*];
            let ([#(#out_idents),*], __ins): ([&mut [f32]; #n_out], [&[f32]; #n_in]) =
                __bufs.views(&[#(#outs),*], &[#(#ins),*])?;
            #path::launch::<__V, #(#consts),*>(__simd, __par, #(#out_idents, __chunks[#chunk_idx],)* #(__ins[#in_idx],)* #(#args),*);
        }})
    }
}

impl VisitMut for Launches {
    fn visit_stmt_mut(&mut self, s: &mut syn::Stmt) {
        if let syn::Stmt::Macro(m) = s {
            if m.mac.path.is_ident("launch") {
                if let Some(t) = self.expand(&m.mac) {
                    *s = syn::Stmt::Expr(syn::parse_quote!(#t), None);
                }
                return;
            }
        }
        syn::visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Macro(m) = e {
            if m.mac.path.is_ident("launch") {
                if let Some(t) = self.expand(&m.mac) {
                    *e = syn::parse_quote!(#t);
                }
                return;
            }
        }
        if let Expr::Return(r) = e {
            self.errors.push(syn::Error::new_spanned(r, "`return` is not allowed in a schedule; structure it with `if`"));
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// The combinations of compile-time parameter values to generate variants for: every
/// combination, or the ones `combos(...)` lists, checked against the parameters (one value
/// per parameter, each one of its `values`, no combination twice, the defaults included).
fn compile_combos(attr: &AlgorithmAttr, compile: &[&Param]) -> Result<Vec<Vec<usize>>, Vec<syn::Error>> {
    let Some((key_span, listed)) = &attr.combos else {
        let mut all: Vec<Vec<usize>> = vec![Vec::new()];
        for p in compile {
            all = all.into_iter().flat_map(|c| p.values.iter().map(move |v| [c.clone(), vec![*v]].concat())).collect();
        }
        return Ok(all);
    };
    let names: Vec<String> = compile.iter().map(|p| p.name.to_string()).collect();
    let mut errors = Vec::new();
    if compile.is_empty() {
        errors.push(syn::Error::new(*key_span, "`combos(...)` needs compile-time parameters (`#[param(compile, ...)]`) to combine"));
        return Err(errors);
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (span, combo) in listed {
        if combo.len() != compile.len() {
            errors.push(syn::Error::new(
                *span,
                format!("a combination has one value per compile-time parameter, in order: [{}]", names.join(", ")),
            ));
            continue;
        }
        let mut ok = true;
        for (p, v) in compile.iter().zip(combo) {
            if !p.values.contains(v) {
                errors.push(syn::Error::new(*span, format!("{v} is not one of the values of `{}`: {:?}", p.name, p.values)));
                ok = false;
            }
        }
        if ok && out.contains(combo) {
            errors.push(syn::Error::new(*span, format!("the combination {combo:?} is listed twice")));
        } else if ok {
            out.push(combo.clone());
        }
    }
    let defaults: Vec<usize> = compile.iter().map(|p| p.default).collect();
    if errors.is_empty() && !out.contains(&defaults) {
        errors.push(syn::Error::new(
            *key_span,
            format!("`combos(...)` must include the defaults {defaults:?} of [{}]: they are the fallback variant", names.join(", ")),
        ));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Adds `<const P: usize, ...>` for the compile-time parameters to a host function.
fn add_const_generics(f: &mut ItemFn, consts: &[&Param]) {
    for p in consts {
        let name = &p.name;
        f.sig.generics.params.push(syn::parse_quote!(const #name: usize));
    }
}

/// Expands the algorithm module.
pub fn expand(attr: AlgorithmAttr, mut module: ItemMod) -> TokenStream {
    let mut errors = Vec::new();
    let Some((brace, items)) = module.content.take() else {
        return syn::Error::new_spanned(&module, "#[algorithm] applies to an inline module: `mod name { ... }`").to_compile_error();
    };
    let need = |what: &str, errors: &mut Vec<syn::Error>| errors.push(syn::Error::new(attr.span, format!("#[algorithm] needs `{what}`")));
    if attr.op.is_none() {
        need("op = <operator kind>", &mut errors);
    }
    if attr.sig.is_none() {
        need("sig = <signature type>", &mut errors);
    }
    if attr.name.is_none() {
        need("name = \"...\"", &mut errors);
    }
    if attr.targets.is_empty() {
        need("targets(...)", &mut errors);
    }
    // Declarative applicability: the same field constrained twice can never hold.
    let mut seen: BTreeMap<String, &Expr> = BTreeMap::new();
    for (field, value) in &attr.applies {
        let key = field.to_string();
        let shown = quote!(#value).to_string();
        if let Some(prev) = seen.get(&key) {
            let prev_shown = quote!(#prev).to_string();
            if prev_shown != shown {
                let name = attr.name.as_ref().map(|n| n.value()).unwrap_or_default();
                errors.push(syn::Error::new_spanned(
                    value,
                    format!("`{name}` can never apply: `applies({key} = {prev_shown})` and `applies({key} = {shown})` contradict each other"),
                ));
            } else {
                errors.push(syn::Error::new_spanned(field, format!("`{key}` is constrained twice")));
            }
        }
        seen.insert(key, value);
    }

    let mut params = Vec::new();
    let mut out_items: Vec<Item> = Vec::new();
    let mut schedule: Option<ItemFn> = None;
    let mut host_fns: BTreeMap<String, ItemFn> = BTreeMap::new();
    for item in items {
        match item {
            Item::Const(c) if c.attrs.iter().any(|a| a.path().is_ident("param")) => {
                if let Some(p) = parse_param(&c, &mut errors) {
                    params.push(p);
                }
            }
            Item::Fn(f) if ["applies", "prepack", "workspace", "schedule"].contains(&f.sig.ident.to_string().as_str())
                && !f.attrs.iter().any(|a| a.path().is_ident("stage") || a.path().is_ident("dsl_fn")) =>
            {
                if f.sig.ident == "schedule" {
                    schedule = Some(f);
                } else {
                    host_fns.insert(f.sig.ident.to_string(), f);
                }
            }
            other => out_items.push(other),
        }
    }
    let Some(mut schedule) = schedule else {
        errors.push(syn::Error::new(attr.span, "an algorithm module needs `fn schedule(s: &Sig, p: &Params) { ... launch!(...) ... }`"));
        return combine(errors);
    };
    if !errors.is_empty() {
        return combine(errors);
    }
    let (Some(op), Some(sig_ty), Some(alg_name)) = (attr.op.clone(), attr.sig.clone(), attr.name.clone()) else {
        return combine(errors);
    };
    let compile: Vec<&Param> = params.iter().filter(|p| p.compile).collect();
    let runtime: Vec<&Param> = params.iter().filter(|p| !p.compile).collect();
    let compile_names: Vec<&Ident> = compile.iter().map(|p| &p.name).collect();

    // Host functions get the compile-time parameters as const generics.
    let mut host_items = Vec::new();
    for (name, mut f) in host_fns {
        add_const_generics(&mut f, &compile);
        let _ = name;
        host_items.push(f);
    }
    let has = |n: &str| host_items.iter().any(|f| f.sig.ident == n);
    // A host function that declares a last parameter `lanes: usize` gets the f32 lanes of
    // the target's vector (`V::LANES` on a CPU, the OpenCL vector width on OpenCL), e.g. to
    // pack weights in panels of whole vectors. Factories bind `__lanes` before calling.
    let takes_lanes = |n: &str| {
        host_items.iter().any(|f| {
            f.sig.ident == n
                && f.sig.inputs.iter().any(|a| matches!(a, syn::FnArg::Typed(t) if matches!(&*t.pat, syn::Pat::Ident(i) if i.ident == "lanes")))
        })
    };
    let lanes_arg = |n: &str| if takes_lanes(n) { quote!(, __lanes) } else { quote!() };
    let (applies_lanes, prepack_lanes, workspace_lanes) = (lanes_arg("applies"), lanes_arg("prepack"), lanes_arg("workspace"));
    let applies_call = if has("applies") { quote!(applies::<#(#compile_names),*>(s #applies_lanes)) } else { quote!(true) };
    let prepack_call = if has("prepack") {
        quote!(Some(::std::sync::Arc::new(prepack::<#(#compile_names),*>(&s, &consts #prepack_lanes)) as ::ferrolite_dsl::kernel::Packed))
    } else {
        quote!(None)
    };
    let workspace_call = if has("workspace") { quote!(workspace::<#(#compile_names),*>(&s, &p #workspace_lanes)) } else { quote!(0usize) };

    // The schedule, for the CPU: launches rewritten, generic over the ISA token.
    let has_opencl = attr.targets.iter().any(|t| t == "opencl");
    let mut cl_block = schedule.block.clone();
    let mut launches = Launches { errors: Vec::new(), opencl: false };
    launches.visit_block_mut(&mut schedule.block);
    if !launches.errors.is_empty() {
        return combine(launches.errors);
    }
    let sched_inputs = &schedule.sig.inputs;
    let sched_body = &schedule.block;
    // The same schedule for OpenCL: the host code runs as is, launches run the stages'
    // OpenCL kernels on the device buffers of the run.
    let mut cl_launches = Launches { errors: Vec::new(), opencl: true };
    cl_launches.visit_block_mut(&mut cl_block);
    if !cl_launches.errors.is_empty() {
        return combine(cl_launches.errors);
    }
    let schedule_fn = quote! {
        #[allow(clippy::too_many_arguments, unused_variables, non_snake_case)]
        fn __schedule_cpu<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*>(
            __simd: __V,
            __par: &::ferrolite_dsl::kernel::Parallel<'_>,
            __bufs: &mut ::ferrolite_dsl::launch::CpuBuffers<'_>,
            #sched_inputs
        ) -> ::ferrolite_dsl::Result<()> {
            // The schedule sees the f32 lanes of the target's vector as `lanes`.
            let lanes: usize = <__V as ::ferrolite_targets::Simd>::LANES;
            // ... and the threads its launches run on, to split work evenly over them.
            let threads: usize = __par.threads();
            #sched_body
            Ok(())
        }
    };

    // Params.
    let rt_names: Vec<&Ident> = runtime.iter().map(|p| &p.name).collect();
    let rt_defaults: Vec<usize> = runtime.iter().map(|p| p.default).collect();
    let rt_values: Vec<&Vec<usize>> = runtime.iter().map(|p| &p.values).collect();
    let rt_strs: Vec<String> = rt_names.iter().map(|n| n.to_string()).collect();
    let rt_declared = format!("{rt_strs:?}");

    // Declarative applicability.
    let applies_decl: Vec<TokenStream> = attr
        .applies
        .iter()
        .map(|(f, v)| quote_spanned!(f.span()=> (s.#f == #v)))
        .collect();

    // Variants: every compile-parameter combination (or those `combos(...)` lists) times
    // every target.
    let combos = match compile_combos(&attr, &compile) {
        Ok(c) => c,
        Err(errors) => return combine(errors),
    };
    let op_lower = op.to_string().to_lowercase();
    let name_s = alg_name.value();
    let priority = attr.priority.clone().unwrap_or_else(|| LitInt::new("0", Span::call_site()));
    let mut registrations = Vec::new();
    for t in &attr.targets {
        let t_s = t.to_string();
        let (token, cfg, isa) = match t_s.as_str() {
            "scalar" => (quote!(::ferrolite_targets::Scalar), quote!(all()), quote!(Scalar)),
            "avx2" => (quote!(::ferrolite_targets::Avx2), quote!(target_arch = "x86_64"), quote!(Avx2)),
            "avx512f" => (quote!(::ferrolite_targets::Avx512f), quote!(target_arch = "x86_64"), quote!(Avx512f)),
            "neon" => (quote!(::ferrolite_targets::Neon), quote!(target_arch = "aarch64"), quote!(Neon)),
            // OpenCL variants run the stages' OpenCL C: one per compile-parameter combination.
            _ => (quote!(), quote!(all()), quote!()),
        };
        for combo in &combos {
            let mut id = format!("f32-{op_lower}-{name_s}");
            for (p, v) in compile.iter().zip(combo) {
                id.push('-');
                id.push_str(&p.id_format.as_deref().unwrap_or("{}").replacen("{}", &v.to_string(), 1));
            }
            id.push('-');
            id.push_str(&t_s);
            let vals: Vec<LitInt> = combo.iter().map(|v| LitInt::new(&format!("{v}usize"), Span::call_site())).collect();
            let cp_names: Vec<String> = compile.iter().map(|p| p.name.to_string()).collect();
            let is_default = compile.iter().zip(combo).all(|(p, v)| p.default == *v);
            // Every variant is declared, whatever this build compiles: the kernel-set
            // checksum of tuning profiles is taken over the declared set.
            let target_expr = if t_s == "opencl" {
                quote!(::ferrolite_dsl::variant::Target::OpenCl)
            } else {
                quote!(::ferrolite_dsl::variant::Target::Cpu(::ferrolite_targets::Isa::#isa))
            };
            registrations.push(quote! {
                registry.declare(::ferrolite_dsl::variant::VariantInfo {
                    id: #id.to_string(),
                    op: #op_lower,
                    algorithm: #name_s,
                    target: #target_expr,
                    compile_params: ::std::vec![#((#cp_names, #vals)),*],
                    default_params: #is_default,
                    runtime_params: runtime_params(),
                    priority: #priority,
                });
            });
            // Build-time pruning (kernels/build.rs, FERROLITE_PROFILE): a pruned build
            // compiles a variant only if the profile picks it, or if it is the fallback
            // (default compile parameters) on an ISA the profile's device has.
            let keep = if is_default {
                quote!(any(not(ferrolite_pruned), ferrolite_keep = #id, ferrolite_keep_isa = #t_s))
            } else {
                quote!(any(not(ferrolite_pruned), ferrolite_keep = #id))
            };
            if t_s == "opencl" {
                registrations.push(quote! {
                    #[cfg(#keep)]
                    registry.register(::std::sync::Arc::new(OpenClFactory::<#(#vals),*>::new(
                        #id,
                        ::std::vec![#((#cp_names, #vals)),*],
                        #is_default,
                    )));
                });
                continue;
            }
            registrations.push(quote! {
                #[cfg(all(#cfg, #keep))]
                registry.register(::std::sync::Arc::new(CpuFactory::<#token, #(#vals),*>::new(
                    #id,
                    ::ferrolite_targets::Isa::#isa,
                    ::std::vec![#((#cp_names, #vals)),*],
                    #is_default,
                )));
            });
        }
    }

    // The OpenCL variants: the schedule with OpenCL launches, a factory and a kernel.
    let opencl_lanes = crate::subset::OPENCL_LANES;
    let mod_name = &module.ident;
    let opencl_items = if has_opencl {
        quote! {
            #[allow(clippy::too_many_arguments, unused_variables, non_snake_case)]
            fn __schedule_opencl<#(const #compile_names: usize),*>(
                __cl: &mut ::ferrolite_dsl::opencl::ClBuffers<'_>,
                #sched_inputs
            ) -> ::ferrolite_dsl::Result<()> {
                // The schedule sees the f32 lanes of the OpenCL vector type as `lanes`.
                let lanes: usize = #opencl_lanes;
                // One queue: the device spreads a launch's work-items itself.
                let threads: usize = 1;
                #cl_block
                Ok(())
            }

            /// One OpenCL variant: values of the compile-time parameters (passed to the
            /// OpenCL compiler as `-DNAME=value`).
            struct OpenClFactory<#(const #compile_names: usize),*> {
                info: ::ferrolite_dsl::variant::VariantInfo,
            }

            impl<#(const #compile_names: usize),*> OpenClFactory<#(#compile_names),*> {
                fn new(id: &str, compile_params: ::std::vec::Vec<(&'static str, usize)>, default_params: bool) -> Self {
                    OpenClFactory {
                        info: ::ferrolite_dsl::variant::VariantInfo {
                            id: id.to_string(),
                            op: #op_lower,
                            algorithm: #name_s,
                            target: ::ferrolite_dsl::variant::Target::OpenCl,
                            compile_params,
                            default_params,
                            runtime_params: runtime_params(),
                            priority: #priority,
                        },
                    }
                }

                fn signature(ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> Option<#sig_ty> {
                    let s = <#sig_ty as ::ferrolite_dsl::variant::OpSignature>::from_node(ctx)?;
                    let __lanes: usize = #opencl_lanes;
                    let ok = { let s = &s; true #(&& #applies_decl)* && #applies_call };
                    ok.then_some(s)
                }
            }

            impl<#(const #compile_names: usize),*> ::ferrolite_dsl::kernel::KernelFactory for OpenClFactory<#(#compile_names),*> {
                fn id(&self) -> &str {
                    &self.info.id
                }
                fn op(&self) -> ::ferrolite_dsl::ir::OpKind {
                    ::ferrolite_dsl::ir::OpKind::#op
                }
                fn priority(&self) -> i32 {
                    #priority
                }
                fn variant(&self) -> Option<&::ferrolite_dsl::variant::VariantInfo> {
                    Some(&self.info)
                }
                fn applies(&self, ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> bool {
                    ::ferrolite_dsl::opencl_available() && Self::signature(ctx).is_some()
                }
                fn prepack(&self, ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> ::ferrolite_dsl::Result<Option<::ferrolite_dsl::kernel::Packed>> {
                    let s = Self::signature(ctx).ok_or_else(|| ctx.err(concat!("does not fit ", stringify!(#mod_name))))?;
                    let __lanes: usize = #opencl_lanes;
                    let consts = ::ferrolite_dsl::variant::constant_inputs(ctx);
                    let _ = (&s, &consts);
                    Ok(#prepack_call)
                }
                fn build(
                    &self,
                    ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>,
                    packed: Option<::ferrolite_dsl::kernel::Packed>,
                ) -> ::ferrolite_dsl::Result<Box<dyn ::ferrolite_dsl::kernel::Kernel>> {
                    self.build_with(ctx, packed, &[])
                }
                fn build_with(
                    &self,
                    ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>,
                    packed: Option<::ferrolite_dsl::kernel::Packed>,
                    params: &[(::std::string::String, usize)],
                ) -> ::ferrolite_dsl::Result<Box<dyn ::ferrolite_dsl::kernel::Kernel>> {
                    let s = Self::signature(ctx).ok_or_else(|| ctx.err(concat!("does not fit ", stringify!(#mod_name))))?;
                    let __lanes: usize = #opencl_lanes;
                    let p = Params::with(params).map_err(|e| ctx.err(format!("{}: {e}", self.info.id)))?;
                    let packed: ::std::sync::Arc<::std::vec::Vec<f32>> = match packed {
                        Some(p) => p.downcast::<::std::vec::Vec<f32>>().map_err(|_| ctx.err("packed weights of another kernel"))?,
                        None => ::std::sync::Arc::new(::std::vec::Vec::new()),
                    };
                    // Uploaded once here; every run reads them on the device.
                    let weights = ::ferrolite_dsl::opencl::DeviceWeights::upload(&packed).map_err(|e| ctx.err(e.to_string()))?;
                    let ws = #workspace_call;
                    Ok(Box::new(OpenClKernel::<#(#compile_names),*> { s, p, weights, ws }))
                }
            }

            struct OpenClKernel<#(const #compile_names: usize),*> {
                s: #sig_ty,
                p: Params,
                weights: ::ferrolite_dsl::opencl::DeviceWeights,
                /// Workspace elements, allocated on the device per run.
                ws: usize,
            }

            impl<#(const #compile_names: usize),*> ::ferrolite_dsl::kernel::Kernel for OpenClKernel<#(#compile_names),*> {
                // The workspace lives on the device: no host workspace (the default 0 bytes).
                fn run(&self, io: ::ferrolite_dsl::kernel::KernelIo<'_, '_>, _par: &::ferrolite_dsl::kernel::Parallel<'_>) -> ::ferrolite_dsl::Result<()> {
                    let mut cl = ::ferrolite_dsl::opencl::ClBuffers::new(io, &self.weights, self.ws)?;
                    __schedule_opencl::<#(#compile_names),*>(&mut cl, &self.s, &self.p)?;
                    cl.finish()
                }
            }
        }
    } else {
        quote!()
    };

    let vis = &module.vis;
    let mod_name = &module.ident;
    let mod_attrs = &module.attrs;
    let _ = brace;
    let out = quote! {
        #(#mod_attrs)*
        #vis mod #mod_name {
            #(#out_items)*

            #(#host_items)*

            /// Parameters chosen at run time (the tuner stores its choice next to its pick).
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            #[allow(non_snake_case)]
            pub struct Params {
                #(
                    #[doc = concat!("Run-time parameter `", #rt_strs, "`.")]
                    pub #rt_names: usize,
                )*
            }

            impl Default for Params {
                fn default() -> Self {
                    Params { #(#rt_names: #rt_defaults),* }
                }
            }

            impl Params {
                /// The defaults with these values set (by name). Only declared parameters
                /// and their declared candidate values are accepted: those are what the
                /// variants test runs.
                #[allow(unused_mut)]
                pub fn with(values: &[(::std::string::String, usize)]) -> ::std::result::Result<Params, ::std::string::String> {
                    let mut p = Params::default();
                    for (name, value) in values {
                        match name.as_str() {
                            #(
                                #rt_strs => {
                                    if ![#(#rt_values),*].contains(value) {
                                        return Err(format!("run-time parameter {} = {} is not one of {:?}", #rt_strs, value, [#(#rt_values),*]));
                                    }
                                    p.#rt_names = *value;
                                }
                            )*
                            other => return Err(format!("no run-time parameter \"{other}\" (declared: {})", #rt_declared)),
                        }
                    }
                    Ok(p)
                }
            }

            /// The run-time parameter space.
            pub fn runtime_params() -> ::std::vec::Vec<::ferrolite_dsl::variant::RuntimeParam> {
                ::std::vec![#(::ferrolite_dsl::variant::RuntimeParam { name: #rt_strs, values: &[#(#rt_values),*], default: #rt_defaults }),*]
            }

            #schedule_fn

            #opencl_items

            /// One CPU variant: an ISA and values of the compile-time parameters.
            struct CpuFactory<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*> {
                info: ::ferrolite_dsl::variant::VariantInfo,
                _isa: ::std::marker::PhantomData<__V>,
            }

            impl<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*> CpuFactory<__V, #(#compile_names),*> {
                fn new(id: &str, isa: ::ferrolite_targets::Isa, compile_params: ::std::vec::Vec<(&'static str, usize)>, default_params: bool) -> Self {
                    CpuFactory {
                        info: ::ferrolite_dsl::variant::VariantInfo {
                            id: id.to_string(),
                            op: #op_lower,
                            algorithm: #name_s,
                            target: ::ferrolite_dsl::variant::Target::Cpu(isa),
                            compile_params,
                            default_params,
                            runtime_params: runtime_params(),
                            priority: #priority,
                        },
                        _isa: ::std::marker::PhantomData,
                    }
                }

                fn signature(ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> Option<#sig_ty> {
                    let s = <#sig_ty as ::ferrolite_dsl::variant::OpSignature>::from_node(ctx)?;
                    let __lanes: usize = <__V as ::ferrolite_targets::Simd>::LANES;
                    let ok = { let s = &s; true #(&& #applies_decl)* && #applies_call };
                    ok.then_some(s)
                }
            }

            impl<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*> ::ferrolite_dsl::kernel::KernelFactory
                for CpuFactory<__V, #(#compile_names),*>
            {
                fn id(&self) -> &str {
                    &self.info.id
                }
                fn op(&self) -> ::ferrolite_dsl::ir::OpKind {
                    ::ferrolite_dsl::ir::OpKind::#op
                }
                fn priority(&self) -> i32 {
                    #priority
                }
                fn variant(&self) -> Option<&::ferrolite_dsl::variant::VariantInfo> {
                    Some(&self.info)
                }
                fn applies(&self, ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> bool {
                    __V::new().is_some() && Self::signature(ctx).is_some()
                }
                fn prepack(&self, ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>) -> ::ferrolite_dsl::Result<Option<::ferrolite_dsl::kernel::Packed>> {
                    let s = Self::signature(ctx).ok_or_else(|| ctx.err(concat!("does not fit ", stringify!(#mod_name))))?;
                    let __lanes: usize = <__V as ::ferrolite_targets::Simd>::LANES;
                    let consts = ::ferrolite_dsl::variant::constant_inputs(ctx);
                    let _ = (&s, &consts);
                    Ok(#prepack_call)
                }
                fn build(
                    &self,
                    ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>,
                    packed: Option<::ferrolite_dsl::kernel::Packed>,
                ) -> ::ferrolite_dsl::Result<Box<dyn ::ferrolite_dsl::kernel::Kernel>> {
                    self.build_with(ctx, packed, &[])
                }
                fn build_with(
                    &self,
                    ctx: &::ferrolite_dsl::kernel::NodeCtx<'_>,
                    packed: Option<::ferrolite_dsl::kernel::Packed>,
                    params: &[(::std::string::String, usize)],
                ) -> ::ferrolite_dsl::Result<Box<dyn ::ferrolite_dsl::kernel::Kernel>> {
                    let s = Self::signature(ctx).ok_or_else(|| ctx.err(concat!("does not fit ", stringify!(#mod_name))))?;
                    let __lanes: usize = <__V as ::ferrolite_targets::Simd>::LANES;
                    let p = Params::with(params).map_err(|e| ctx.err(format!("{}: {e}", self.info.id)))?;
                    let simd = __V::new().ok_or_else(|| ctx.err(format!("{} is not available on this CPU", self.info.target)))?;
                    let packed: ::std::sync::Arc<::std::vec::Vec<f32>> = match packed {
                        Some(p) => p.downcast::<::std::vec::Vec<f32>>().map_err(|_| ctx.err("packed weights of another kernel"))?,
                        None => ::std::sync::Arc::new(::std::vec::Vec::new()),
                    };
                    let ws = #workspace_call;
                    Ok(Box::new(CpuKernel::<__V, #(#compile_names),*> { simd, s, p, packed, ws }))
                }
            }

            struct CpuKernel<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*> {
                simd: __V,
                s: #sig_ty,
                p: Params,
                packed: ::std::sync::Arc<::std::vec::Vec<f32>>,
                ws: usize,
            }

            impl<__V: ::ferrolite_targets::Simd, #(const #compile_names: usize),*> ::ferrolite_dsl::kernel::Kernel
                for CpuKernel<__V, #(#compile_names),*>
            {
                fn workspace_bytes(&self) -> usize {
                    self.ws * 4
                }
                fn run(&self, io: ::ferrolite_dsl::kernel::KernelIo<'_, '_>, par: &::ferrolite_dsl::kernel::Parallel<'_>) -> ::ferrolite_dsl::Result<()> {
                    let mut bufs = ::ferrolite_dsl::variant::cpu_buffers(io, &self.packed)?;
                    __schedule_cpu::<__V, #(#compile_names),*>(self.simd, par, &mut bufs, &self.s, &self.p)
                }
            }

            /// Registers every variant of this algorithm that this build contains.
            // The pruning `cfg`s are declared by the build script of the crate that holds
            // the kernels (ferrolite-kernels); elsewhere they are simply never set.
            #[allow(unexpected_cfgs)]
            pub fn register(registry: &mut ::ferrolite_dsl::kernel::KernelRegistry) {
                #(#registrations)*
            }
        }
    };
    if attr.debug {
        eprintln!("{out}");
    }
    out
}
