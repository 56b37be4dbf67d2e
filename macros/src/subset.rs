//! The restricted Rust subset that stage and helper bodies are written in: one walk over the
//! body checks every construct (collecting an error, spanned on the offending token, for each
//! one outside the subset), infers the type of every expression, and emits the OpenCL C
//! translation.
//!
//! The subset is documented in `docs/authoring-kernels.md`; every "not allowed" error below
//! says what is allowed instead.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{BinOp, Block, Expr, Ident, Lit, Pat, RangeLimits, Stmt, Type, UnOp};

/// OpenCL vector width of `V::F32` (`float4`).
pub const OPENCL_LANES: usize = 4;

/// The OpenCL C name of a local, parameter or loop variable `name`: `name_`.
///
/// Every name from the kernel source gets a trailing `_`, and every name the translation
/// makes up does not end in `_`, so a kernel's names can never collide with C keywords,
/// OpenCL built-ins (`half`, `min`, `dot`, ...), the prelude's macros or the generated
/// helper variables, whatever the author calls them.
pub fn c_ident(name: &str) -> String {
    format!("{name}_")
}

/// The OpenCL C name of the length that goes with slice `name`: `name_len`.
pub fn c_len(name: &str) -> String {
    format!("{name}_len")
}

/// The OpenCL C name of the `#[dsl_fn]` helper `name`: `name_fn`.
pub fn c_helper(name: &str) -> String {
    format!("{name}_fn")
}

/// Types of the subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Usize,
    Isize,
    I32,
    F32,
    Bool,
    /// `V::F32`.
    Vector,
    /// `&[f32]` (`mutable`: `&mut [f32]`), in global memory.
    Slice {
        mutable: bool,
    },
    /// A local array `[elem; len]`.
    Array {
        elem: Box<Ty>,
        len: String,
    },
    Unit,
}

impl Ty {
    fn is_int(&self) -> bool {
        matches!(self, Ty::Usize | Ty::Isize | Ty::I32)
    }

    fn name(&self) -> String {
        match self {
            Ty::Usize => "usize".into(),
            Ty::Isize => "isize".into(),
            Ty::I32 => "i32".into(),
            Ty::F32 => "f32".into(),
            Ty::Bool => "bool".into(),
            Ty::Vector => "V::F32".into(),
            Ty::Slice { mutable: false } => "&[f32]".into(),
            Ty::Slice { mutable: true } => "&mut [f32]".into(),
            Ty::Array { elem, len } => format!("[{}; {len}]", elem.name()),
            Ty::Unit => "()".into(),
        }
    }

    /// The OpenCL C type of a scalar, vector or (element of an) array local.
    fn c_scalar(&self) -> &'static str {
        match self {
            Ty::Usize | Ty::Isize | Ty::I32 => "int",
            Ty::F32 => "float",
            Ty::Bool => "bool",
            Ty::Vector => "floatV",
            _ => "void",
        }
    }
}

/// Parses a type written in a stage signature, a `let` annotation or a cast.
pub fn parse_type(ty: &Type, v: &Ident) -> Result<Ty, syn::Error> {
    let allowed = "allowed types: usize, isize, i32, f32, bool, V::F32, [T; N], &[f32], &mut [f32]";
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let v_name = v.to_string();
            match segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["usize"] => Ok(Ty::Usize),
                ["isize"] => Ok(Ty::Isize),
                ["i32"] => Ok(Ty::I32),
                ["f32"] => Ok(Ty::F32),
                ["bool"] => Ok(Ty::Bool),
                [a, "F32"] if *a == v_name => Ok(Ty::Vector),
                _ => Err(syn::Error::new_spanned(ty, format!("type not allowed in a kernel: {allowed}"))),
            }
        }
        Type::Reference(r) => match &*r.elem {
            Type::Slice(s) if matches!(&*s.elem, Type::Path(p) if p.path.is_ident("f32")) => {
                Ok(Ty::Slice { mutable: r.mutability.is_some() })
            }
            _ => Err(syn::Error::new_spanned(ty, format!("only `&[f32]` and `&mut [f32]` references: {allowed}"))),
        },
        Type::Array(a) => {
            let elem = parse_type(&a.elem, v)?;
            if !matches!(elem, Ty::Usize | Ty::Isize | Ty::I32 | Ty::F32 | Ty::Vector | Ty::Array { .. }) {
                return Err(syn::Error::new_spanned(&a.elem, "array elements must be scalars, V::F32 or arrays"));
            }
            Ok(Ty::Array { elem: Box::new(elem), len: array_len(&a.len)? })
        }
        _ => Err(syn::Error::new_spanned(ty, format!("type not allowed in a kernel: {allowed}"))),
    }
}

fn array_len(e: &Expr) -> Result<String, syn::Error> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => Ok(i.base10_digits().to_string()),
            _ => Err(syn::Error::new_spanned(e, "array length must be an integer literal or a const parameter")),
        },
        Expr::Path(p) if p.path.get_ident().is_some() => Ok(p.path.get_ident().map(|i| i.to_string()).unwrap_or_default()),
        _ => Err(syn::Error::new_spanned(e, "array length must be an integer literal or a const parameter")),
    }
}

/// A helper function (`#[dsl_fn]`) callable from a body: its parameter and return types.
#[derive(Debug, Clone)]
pub struct HelperSig {
    pub ret: Ty,
}

#[derive(Debug, Clone)]
struct Local {
    ty: Ty,
    mutable: bool,
}

/// A slice expression in C: pointer expression and length expression.
struct CSlice {
    mutable: bool,
    ptr: String,
    len: String,
}

/// The vector primitives of the `Simd` trait: name, argument kinds, result.
#[derive(Clone, Copy)]
enum Arg {
    Vec,
    Scalar,
    SliceIn,
    SliceOut,
}

fn primitive(name: &str) -> Option<(&'static [Arg], Ty)> {
    use Arg::*;
    Some(match name {
        "zero" => (&[], Ty::Vector),
        "splat" => (&[Scalar], Ty::Vector),
        "load" | "load_partial" => (&[SliceIn], Ty::Vector),
        "store" | "store_partial" => (&[SliceOut, Vec], Ty::Unit),
        "add" | "sub" | "mul" | "div" | "max" | "min" => (&[Vec, Vec], Ty::Vector),
        "fma" => (&[Vec, Vec, Vec], Ty::Vector),
        "abs" | "neg" | "sqrt" | "floor" | "exp" | "sigmoid" | "tanh" => (&[Vec], Ty::Vector),
        "reduce_sum" | "reduce_max" => (&[Vec], Ty::F32),
        _ => return None,
    })
}

const PRIMITIVES: &str = "zero, splat, load, store, load_partial, store_partial, add, sub, mul, div, max, min, \
                          fma, abs, neg, sqrt, floor, exp, sigmoid, tanh, reduce_sum, reduce_max";

/// Checks a body and translates it to OpenCL C.
pub struct Checker {
    v: Ident,
    consts: Vec<String>,
    helpers_known: HashMap<String, HelperSig>,
    scopes: Vec<HashMap<String, Local>>,
    pub errors: Vec<syn::Error>,
    pub c: String,
    indent: usize,
    counter: usize,
    loop_depth: usize,
    /// Names of helper functions called.
    pub helpers_used: BTreeSet<String>,
    /// Return type of the function being checked (helpers return values).
    ret: Ty,
    /// Locals whose `let` was refused: already reported, so later uses are not reported
    /// again as unknown variables.
    poisoned: BTreeSet<String>,
}

impl Checker {
    pub fn new(v: Ident, consts: Vec<String>, ret: Ty) -> Self {
        Checker {
            v,
            consts,
            helpers_known: HashMap::new(),
            scopes: vec![HashMap::new()],
            errors: Vec::new(),
            c: String::new(),
            indent: 1,
            counter: 0,
            loop_depth: 0,
            helpers_used: BTreeSet::new(),
            ret,
            poisoned: BTreeSet::new(),
        }
    }

    /// Declares a parameter.
    pub fn declare(&mut self, name: &str, ty: Ty, mutable: bool) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), Local { ty, mutable });
        }
    }

    fn err(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// Reports an unknown name, unless it is a local whose `let` was already refused.
    fn unknown(&mut self, span: Span, name: &str, msg: impl std::fmt::Display) {
        if !self.poisoned.contains(name) {
            self.err(span, msg);
        }
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.c.push_str("    ");
        }
        self.c.push_str(s);
        self.c.push('\n');
    }

    fn fresh(&mut self, base: &str) -> String {
        self.counter += 1;
        format!("__{base}{}", self.counter)
    }

    fn lookup(&self, name: &str) -> Option<&Local> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Checks and emits a block's statements (without braces).
    pub fn block(&mut self, block: &Block) {
        self.scopes.push(HashMap::new());
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        self.scopes.pop();
    }

    fn braced(&mut self, header: &str, block: &Block) {
        self.line(&format!("{header} {{"));
        self.indent += 1;
        self.block(block);
        self.indent -= 1;
        self.line("}");
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Local(local) => self.let_stmt(local),
            Stmt::Expr(e, semi) => self.expr_stmt(e, semi.is_some()),
            Stmt::Item(item) => self.err(item.span(), "items (fn, struct, use, const ...) are not allowed inside a kernel body; declare helpers with #[dsl_fn] outside"),
            Stmt::Macro(m) => self.err(m.span(), "macros are not allowed in a kernel body (they have no OpenCL translation)"),
        }
    }

    fn let_stmt(&mut self, local: &syn::Local) {
        let (ident, mutable, annotated) = match &local.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => (p.ident.clone(), p.mutability.is_some(), None),
            Pat::Type(pt) => match &*pt.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                    match parse_type(&pt.ty, &self.v) {
                        Ok(t) => (p.ident.clone(), p.mutability.is_some(), Some(t)),
                        Err(e) => {
                            self.errors.push(e);
                            return;
                        }
                    }
                }
                other => {
                    self.err(other.span(), "only `let name` or `let mut name` is allowed (no patterns)");
                    return;
                }
            },
            other => {
                self.err(other.span(), "only `let name` or `let mut name` is allowed (no patterns)");
                return;
            }
        };
        let Some(init) = &local.init else {
            self.err(local.span(), "a `let` needs an initial value: `let name = value;`");
            self.poisoned.insert(ident.to_string());
            return;
        };
        if let Some((_, diverge)) = &init.diverge {
            self.err(diverge.span(), "`let ... else` is not allowed; bind a value and test it with `if`");
            self.poisoned.insert(ident.to_string());
            return;
        }
        let name = ident.to_string();
        let errors_before = self.errors.len();
        self.let_value(&ident, mutable, annotated, init);
        if self.errors.len() > errors_before && self.lookup(&name).is_none() {
            self.poisoned.insert(name);
        }
    }

    /// The rest of a `let name[: T] = init;` once its pattern is checked.
    fn let_value(&mut self, ident: &Ident, mutable: bool, annotated: Option<Ty>, init: &syn::LocalInit) {
        let name = ident.to_string();
        if self.lookup(&name).is_some() {
            self.err(ident.span(), format!("`{name}` is already defined: shadowing is not allowed in a kernel (OpenCL C has no shadowing); pick another name"));
            return;
        }
        // Arrays: `[e; N]` / `[[e; N]; M]`, declared then filled.
        if let Expr::Repeat(_) = &*init.expr {
            if let Some(ty) = self.array_init(&name, &init.expr, annotated.as_ref()) {
                self.declare(&name, ty, mutable);
            }
            return;
        }
        let Some((ty, c)) = self.expr(&init.expr, annotated.as_ref()) else { return };
        let ty = match annotated {
            Some(a) => {
                if !compatible(&a, &ty) {
                    self.err(init.expr.span(), format!("expected {}, found {}", a.name(), ty.name()));
                    return;
                }
                a
            }
            None => ty,
        };
        match &ty {
            Ty::Unit => {
                self.err(init.expr.span(), "this expression has no value");
                return;
            }
            Ty::Slice { .. } => {
                self.err(init.expr.span(), "slices cannot be bound to locals; index the parameter directly or loop with chunks_exact");
                return;
            }
            Ty::Array { .. } => {
                self.err(init.expr.span(), "arrays cannot be copied or moved; create each one with `let name = [value; N];`");
                return;
            }
            _ => {}
        }
        let qual = if mutable { "" } else { "const " };
        self.line(&format!("{qual}{} {} = {c};", ty.c_scalar(), c_ident(&name)));
        self.declare(&name, ty, mutable);
    }

    fn array_init(&mut self, name: &str, e: &Expr, annotated: Option<&Ty>) -> Option<Ty> {
        // Collect the dimensions outside-in and the element expression.
        let mut dims = Vec::new();
        let mut cur = e;
        while let Expr::Repeat(r) = cur {
            match array_len(&r.len) {
                Ok(l) => {
                    if l.chars().all(|c| c.is_ascii_alphabetic() || c == '_') && !self.consts.contains(&l) {
                        self.err(r.len.span(), format!("`{l}` is not a const parameter of this kernel"));
                        return None;
                    }
                    dims.push(l)
                }
                Err(err) => {
                    self.errors.push(err);
                    return None;
                }
            }
            cur = &r.expr;
        }
        let elem_expected = annotated.map(|mut t| {
            while let Ty::Array { elem, .. } = t {
                t = elem;
            }
            t.clone()
        });
        let (elem_ty, elem_c) = self.expr(cur, elem_expected.as_ref())?;
        if !matches!(elem_ty, Ty::Usize | Ty::Isize | Ty::I32 | Ty::F32 | Ty::Vector) {
            self.err(cur.span(), "array elements must be scalars or V::F32");
            return None;
        }
        let decl: String = dims.iter().map(|d| format!("[{d}]")).collect();
        let cname = c_ident(name);
        self.line(&format!("{} {cname}{decl};", elem_ty.c_scalar()));
        let mut idx = Vec::new();
        for d in &dims {
            let i = self.fresh("i");
            self.line(&format!("for (int {i} = 0; {i} < {d}; {i}++)"));
            idx.push(i);
        }
        let subs: String = idx.iter().map(|i| format!("[{i}]")).collect();
        self.line(&format!("    {cname}{subs} = {elem_c};"));
        let mut ty = elem_ty;
        for d in dims.into_iter().rev() {
            ty = Ty::Array { elem: Box::new(ty), len: d };
        }
        Some(ty)
    }

    fn expr_stmt(&mut self, e: &Expr, semi: bool) {
        match e {
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::If(i) => self.if_stmt(i),
            Expr::Block(b) if b.label.is_none() => {
                self.line("{");
                self.indent += 1;
                self.block(&b.block);
                self.indent -= 1;
                self.line("}");
            }
            Expr::Break(b) => {
                if b.label.is_some() || b.expr.is_some() {
                    self.err(b.span(), "only a plain `break;` is allowed (no labels, no value)");
                } else if self.loop_depth == 0 {
                    self.err(b.span(), "`break` outside a loop");
                } else {
                    self.line("break;");
                }
            }
            Expr::Continue(c) => {
                if c.label.is_some() {
                    self.err(c.span(), "only a plain `continue;` is allowed (no labels)");
                } else {
                    self.line("continue;");
                }
            }
            Expr::Return(r) => match (&r.expr, &self.ret) {
                (None, Ty::Unit) => self.line("return;"),
                (Some(v), ret) if *ret != Ty::Unit => {
                    let ret = ret.clone();
                    if let Some((t, c)) = self.expr(v, Some(&ret)) {
                        if !compatible(&ret, &t) {
                            self.err(v.span(), format!("expected {}, found {}", ret.name(), t.name()));
                        }
                        self.line(&format!("return {c};"));
                    }
                }
                (Some(_), _) => self.err(r.span(), "this function returns no value: write `return;`"),
                (None, ret) => {
                    let ret = ret.name();
                    self.err(r.span(), format!("this helper returns {ret}: write `return value;`"))
                }
            },
            Expr::Assign(a) => self.assign(&a.left, None, &a.right),
            Expr::Binary(b) if is_compound(&b.op) => self.assign(&b.left, Some(&b.op), &b.right),
            _ => {
                // A helper called as a statement (`f(..);`) returns nothing; the trailing
                // value of a helper's body has the helper's return type (so a call of another
                // helper there needs no annotation).
                let trailing = !semi && self.ret != Ty::Unit && self.scopes.len() == 2;
                let expected = if trailing {
                    Some(self.ret.clone())
                } else {
                    (semi && matches!(strip_parens(e), Expr::Call(_))).then_some(Ty::Unit)
                };
                if let Some((ty, c)) = self.expr(e, expected.as_ref()) {
                    if !semi && ty != Ty::Unit {
                        // The trailing value of a helper's body is its return value.
                        if self.ret != Ty::Unit && self.scopes.len() == 2 {
                            self.line(&format!("return {c};"));
                            return;
                        }
                        self.err(e.span(), "a value here is unused; end the statement with `;`");
                    }
                    self.line(&format!("{c};"));
                }
            }
        }
    }

    fn assign(&mut self, left: &Expr, op: Option<&BinOp>, right: &Expr) {
        let Some((lt, lc)) = self.place(left) else { return };
        let Some((rt, rc)) = self.expr(right, Some(&lt)) else { return };
        if !compatible(&lt, &rt) {
            self.err(right.span(), format!("expected {}, found {}", lt.name(), rt.name()));
            return;
        }
        match op {
            None => self.line(&format!("{lc} = {rc};")),
            Some(op) => {
                let sym = match op {
                    BinOp::AddAssign(_) => "+",
                    BinOp::SubAssign(_) => "-",
                    BinOp::MulAssign(_) => "*",
                    BinOp::DivAssign(_) => "/",
                    _ => {
                        self.err(op.span(), "only `+=`, `-=`, `*=`, `/=` are allowed");
                        return;
                    }
                };
                if !(lt.is_int() || lt == Ty::F32) {
                    self.err(op.span(), format!("`{sym}=` works on integers and f32; use V::add and friends on vectors"));
                    return;
                }
                self.line(&format!("{lc} = {lc} {sym} ({rc});"));
            }
        }
    }

    /// A place that can be assigned: a mutable local, an element of a mutable array, or an
    /// element of an output slice.
    fn place(&mut self, e: &Expr) -> Option<(Ty, String)> {
        match e {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident()?.to_string();
                match self.lookup(&name).cloned() {
                    Some(Local { ty, mutable: true }) if !matches!(ty, Ty::Slice { .. }) => Some((ty, c_ident(&name))),
                    Some(_) => {
                        self.err(e.span(), format!("`{name}` is not mutable (declare it with `let mut`)"));
                        None
                    }
                    None => {
                        self.unknown(e.span(), &name, format!("unknown variable `{name}`"));
                        None
                    }
                }
            }
            Expr::Index(ix) => {
                let (bt, bc) = self.place_base(&ix.expr)?;
                let (it, ic) = self.expr(&ix.index, Some(&Ty::Usize))?;
                if !it.is_int() {
                    self.err(ix.index.span(), "index must be an integer");
                    return None;
                }
                match bt {
                    Ty::Slice { mutable: true } => Some((Ty::F32, format!("{bc}[{ic}]"))),
                    Ty::Slice { mutable: false } => {
                        self.err(ix.expr.span(), "this slice is an input (`&[f32]`); only outputs (`&mut [f32]`) are written");
                        None
                    }
                    Ty::Array { elem, .. } => Some((*elem, format!("{bc}[{ic}]"))),
                    other => {
                        self.err(ix.expr.span(), format!("cannot index a value of type {}; only arrays and slices are indexed", other.name()));
                        None
                    }
                }
            }
            Expr::Paren(p) => self.place(&p.expr),
            _ => {
                self.err(e.span(), "can only assign to a `let mut` local, an array element or an element of an output slice");
                None
            }
        }
    }

    fn place_base(&mut self, e: &Expr) -> Option<(Ty, String)> {
        match e {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident()?.to_string();
                match self.lookup(&name).cloned() {
                    Some(Local { ty: ty @ Ty::Slice { .. }, .. }) => Some((ty, c_ident(&name))),
                    Some(Local { ty: ty @ Ty::Array { .. }, mutable: true }) => Some((ty, c_ident(&name))),
                    Some(Local { ty: Ty::Array { .. }, mutable: false }) => {
                        self.err(e.span(), format!("`{name}` is not mutable (declare it with `let mut`)"));
                        None
                    }
                    Some(l) => {
                        self.err(e.span(), format!("cannot index `{name}` of type {}; only arrays and slices are indexed", l.ty.name()));
                        None
                    }
                    None => {
                        self.unknown(e.span(), &name, format!("unknown variable `{name}`"));
                        None
                    }
                }
            }
            Expr::Index(_) => self.place(e),
            _ => {
                self.err(e.span(), "can only index a local array or a slice parameter");
                None
            }
        }
    }

    fn if_stmt(&mut self, i: &syn::ExprIf) {
        let Some((ct, cc)) = self.expr(&i.cond, Some(&Ty::Bool)) else { return };
        if ct != Ty::Bool {
            self.err(i.cond.span(), format!("condition must be bool, found {}", ct.name()));
            return;
        }
        self.braced(&format!("if ({cc})"), &i.then_branch);
        if let Some((_, els)) = &i.else_branch {
            match &**els {
                Expr::If(inner) => {
                    self.line("else");
                    self.if_stmt(inner);
                }
                Expr::Block(b) => self.braced("else", &b.block),
                other => self.err(other.span(), "expected a block or `if` after `else`"),
            }
        }
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop) {
        if f.label.is_some() {
            self.err(f.span(), "labelled loops are not allowed");
            return;
        }
        self.loop_depth += 1;
        self.scopes.push(HashMap::new());
        let ok = self.for_header(f);
        if ok {
            self.indent += 1;
            self.block(&f.body);
            self.indent -= 1;
            self.line("}");
        }
        self.scopes.pop();
        self.loop_depth -= 1;
    }

    /// Emits the loop header (and binding lines), declares the loop variables.
    fn for_header(&mut self, f: &syn::ExprForLoop) -> bool {
        let allowed = "allowed loops: `for i in a..b`, `for i in (a..b).step_by(s)`, `for c in s.chunks_exact(n)`, \
                       `for (c, d) in s.chunks_exact(n).zip(t.chunks_exact(m))`";
        let source = strip_parens(&f.expr);
        // Ranges.
        let (range, step) = match source {
            Expr::Range(r) => (Some(r), None),
            Expr::MethodCall(m) if m.method == "step_by" => match strip_parens(&m.receiver) {
                Expr::Range(r) if m.args.len() == 1 => (Some(r), m.args.first()),
                _ => (None, None),
            },
            _ => (None, None),
        };
        if let Some(r) = range {
            let Pat::Ident(pi) = &*f.pat else {
                self.err(f.pat.span(), "a range loop binds one variable: `for i in a..b`");
                return false;
            };
            let (Some(start), Some(end)) = (&r.start, &r.end) else {
                self.err(r.span(), "ranges need both ends: `a..b`");
                return false;
            };
            let Some((st, sc)) = self.expr(start, Some(&Ty::Usize)) else { return false };
            let Some((et, ec)) = self.expr(end, Some(&st)) else { return false };
            if !st.is_int() || st != et {
                self.err(r.span(), format!("range ends must be integers of one type, found {} and {}", st.name(), et.name()));
                return false;
            }
            let sc_step = match step {
                None => "1".to_string(),
                Some(s) => match self.expr(s, Some(&Ty::Usize)) {
                    Some((Ty::Usize, c)) => c,
                    Some((t, _)) => {
                        self.err(s.span(), format!("step_by takes a usize, found {}", t.name()));
                        return false;
                    }
                    None => return false,
                },
            };
            let name = pi.ident.to_string();
            let cmp = if matches!(r.limits, RangeLimits::Closed(_)) { "<=" } else { "<" };
            let cname = c_ident(&name);
            self.line(&format!("for (int {cname} = {sc}; {cname} {cmp} {ec}; {cname} += {sc_step}) {{"));
            self.declare(&name, st, false);
            return true;
        }
        // chunks_exact, possibly zipped.
        let chunks = |e: &Expr| -> Option<(Expr, Expr)> {
            match strip_parens(e) {
                Expr::MethodCall(m) if m.method == "chunks_exact" || m.method == "chunks_exact_mut" => {
                    Some(((*m.receiver).clone(), m.args.first()?.clone()))
                }
                _ => None,
            }
        };
        let mut sources = Vec::new();
        match source {
            Expr::MethodCall(m) if m.method == "zip" && m.args.len() == 1 => {
                match (chunks(&m.receiver), m.args.first().and_then(chunks)) {
                    (Some(a), Some(b)) => sources.extend([a, b]),
                    _ => {
                        self.err(source.span(), allowed);
                        return false;
                    }
                }
            }
            other => match chunks(other) {
                Some(a) => sources.push(a),
                None => {
                    self.err(other.span(), allowed);
                    return false;
                }
            },
        }
        let names: Vec<Ident> = match (&*f.pat, sources.len()) {
            (Pat::Ident(p), 1) => vec![p.ident.clone()],
            (Pat::Tuple(t), 2) if t.elems.len() == 2 => {
                let mut v = Vec::new();
                for p in &t.elems {
                    match p {
                        Pat::Ident(pi) => v.push(pi.ident.clone()),
                        other => {
                            self.err(other.span(), "bind each chunk to a name");
                            return false;
                        }
                    }
                }
                v
            }
            (p, _) => {
                self.err(p.span(), "bind one name per chunked slice: `for c in ...` or `for (c, d) in ...zip(...)`");
                return false;
            }
        };
        let mut parts = Vec::new();
        for (slice, n) in &sources {
            let Some(cs) = self.slice(slice) else { return false };
            let Some((nt, nc)) = self.expr(n, Some(&Ty::Usize)) else { return false };
            if nt != Ty::Usize {
                self.err(n.span(), "chunk length must be a usize");
                return false;
            }
            parts.push((cs, nc));
        }
        let i = self.fresh("c");
        let count = parts.iter().map(|(cs, n)| format!("(({}) / ({n}))", cs.len)).collect::<Vec<_>>();
        let count = count.iter().skip(1).fold(count[0].clone(), |acc, c| format!("min({acc}, {c})"));
        self.line(&format!("for (int {i} = 0; {i} < {count}; {i}++) {{"));
        for (name, (cs, n)) in names.iter().zip(&parts) {
            let q = if cs.mutable { "" } else { "const " };
            let (cname, clen) = (c_ident(&name.to_string()), c_len(&name.to_string()));
            self.line(&format!("    __global {q}float* {cname} = ({}) + {i} * ({n});", cs.ptr));
            self.line(&format!("    const int {clen} = {n};"));
            self.declare(&name.to_string(), Ty::Slice { mutable: cs.mutable }, false);
        }
        true
    }

    /// A slice expression: a slice parameter or chunk, or `&s[a..b]`, `&s[a..]`,
    /// `&mut s[a..b]`, `&mut s[a..]`.
    fn slice(&mut self, e: &Expr) -> Option<CSlice> {
        let e = strip_parens(e);
        match e {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident()?.to_string();
                match self.lookup(&name) {
                    Some(Local { ty: Ty::Slice { mutable }, .. }) => {
                        Some(CSlice { mutable: *mutable, ptr: c_ident(&name), len: c_len(&name) })
                    }
                    Some(l) => {
                        let t = l.ty.name();
                        self.err(e.span(), format!("expected a slice, `{name}` is {t}"));
                        None
                    }
                    None => {
                        self.unknown(e.span(), &name, format!("unknown variable `{name}`"));
                        None
                    }
                }
            }
            Expr::Reference(r) => {
                let Expr::Index(ix) = &*r.expr else {
                    self.err(e.span(), "references are only allowed as sub-slices: `&s[a..b]`, `&s[a..]`, `&mut y[a..]`");
                    return None;
                };
                let base = self.slice(&ix.expr)?;
                if r.mutability.is_some() && !base.mutable {
                    self.err(e.span(), "`&mut` of an input slice: only outputs (`&mut [f32]`) are written");
                    return None;
                }
                let Expr::Range(range) = strip_parens(&ix.index) else {
                    self.err(ix.index.span(), "sub-slices take a range: `&s[a..b]` or `&s[a..]`");
                    return None;
                };
                if matches!(range.limits, RangeLimits::Closed(_)) {
                    self.err(range.span(), "use a half-open range `a..b`");
                    return None;
                }
                let start = match &range.start {
                    Some(s) => {
                        let (t, c) = self.expr(s, Some(&Ty::Usize))?;
                        if t != Ty::Usize {
                            self.err(s.span(), "slice bounds must be usize");
                            return None;
                        }
                        c
                    }
                    None => "0".into(),
                };
                let len = match &range.end {
                    Some(en) => {
                        let (t, c) = self.expr(en, Some(&Ty::Usize))?;
                        if t != Ty::Usize {
                            self.err(en.span(), "slice bounds must be usize");
                            return None;
                        }
                        format!("(({c}) - ({start}))")
                    }
                    None => format!("(({}) - ({start}))", base.len),
                };
                Some(CSlice { mutable: r.mutability.is_some(), ptr: format!("(({}) + ({start}))", base.ptr), len })
            }
            _ => {
                self.err(e.span(), "expected a slice: a slice parameter, a chunk, `&s[a..b]` or `&s[a..]`");
                None
            }
        }
    }

    /// Type-checks an expression and returns its type and C translation.
    pub fn expr(&mut self, e: &Expr, expected: Option<&Ty>) -> Option<(Ty, String)> {
        match e {
            Expr::Lit(l) => self.lit(&l.lit, expected),
            Expr::Paren(p) => self.expr(&p.expr, expected).map(|(t, c)| (t, format!("({c})"))),
            Expr::Path(p) => self.path(p),
            Expr::Unary(u) => {
                let (t, c) = self.expr(&u.expr, expected)?;
                match u.op {
                    UnOp::Neg(_) if matches!(t, Ty::Isize | Ty::I32 | Ty::F32 | Ty::Vector) => Some((t, format!("(-{c})"))),
                    UnOp::Neg(_) => {
                        self.err(u.span(), format!("cannot negate a {}", t.name()));
                        None
                    }
                    UnOp::Not(_) if t == Ty::Bool => Some((t, format!("(!{c})"))),
                    UnOp::Not(_) => {
                        self.err(u.span(), "`!` applies to bool only");
                        None
                    }
                    _ => {
                        self.err(u.span(), "dereference is not allowed");
                        None
                    }
                }
            }
            Expr::Binary(b) => self.binary(b, expected),
            Expr::Cast(c) => {
                let to = match parse_type(&c.ty, &self.v) {
                    Ok(t @ (Ty::Usize | Ty::Isize | Ty::I32 | Ty::F32)) => t,
                    Ok(_) | Err(_) => {
                        self.err(c.ty.span(), "casts go to usize, isize, i32 or f32");
                        return None;
                    }
                };
                let (from, fc) = self.expr(&c.expr, None)?;
                if !(from.is_int() || from == Ty::F32) {
                    self.err(c.expr.span(), format!("cannot cast a {}", from.name()));
                    return None;
                }
                Some((to.clone(), format!("(({}){fc})", to.c_scalar())))
            }
            Expr::Index(ix) => {
                if let Expr::Range(r) = strip_parens(&ix.index) {
                    self.err(r.span(), "`s[a..b]` is not a value: a sub-slice is written `&s[a..b]` and only passed to V::load / V::store, helpers or loops");
                    return None;
                }
                let (it, ic) = self.expr(&ix.index, Some(&Ty::Usize))?;
                if !it.is_int() {
                    if matches!(strip_parens(&ix.index), Expr::Range(_)) {
                        self.err(ix.index.span(), "sub-slices are written `&s[a..b]` and only passed to V::load/store or loops");
                    } else {
                        self.err(ix.index.span(), "index must be an integer");
                    }
                    return None;
                }
                let (bt, bc) = match strip_parens(&ix.expr) {
                    Expr::Path(_) | Expr::Index(_) => self.expr(&ix.expr, None)?,
                    other => {
                        self.err(other.span(), "can only index a local array or a slice");
                        return None;
                    }
                };
                match bt {
                    Ty::Slice { .. } => Some((Ty::F32, format!("{bc}[{ic}]"))),
                    Ty::Array { elem, .. } => Some((*elem, format!("{bc}[{ic}]"))),
                    other => {
                        self.err(ix.expr.span(), format!("cannot index a {}", other.name()));
                        None
                    }
                }
            }
            Expr::Call(call) => self.call(call, expected),
            Expr::MethodCall(m) => self.method(m, expected),
            Expr::If(i) => {
                // Only `if c { a } else { b }` with single expressions, as C's `?:`.
                let single = |b: &Block| match b.stmts.as_slice() {
                    [Stmt::Expr(e, None)] => Some(e.clone()),
                    _ => None,
                };
                let els = match &i.else_branch {
                    Some((_, e)) => match &**e {
                        Expr::Block(b) => single(&b.block),
                        Expr::If(_) => Some((**e).clone()),
                        _ => None,
                    },
                    None => None,
                };
                let (Some(a), Some(b)) = (single(&i.then_branch), els) else {
                    self.err(i.span(), "an `if` used as a value must be `if c { a } else { b }` with one expression per branch");
                    return None;
                };
                let (ct, cc) = self.expr(&i.cond, Some(&Ty::Bool))?;
                if ct != Ty::Bool {
                    self.err(i.cond.span(), "condition must be bool");
                    return None;
                }
                let (at, ac) = self.expr(&a, expected)?;
                let (bt, bc) = self.expr(&b, Some(&at))?;
                if at != bt {
                    self.err(b.span(), format!("branches have different types: {} and {}", at.name(), bt.name()));
                    return None;
                }
                Some((at, format!("(({cc}) ? ({ac}) : ({bc}))")))
            }
            Expr::Reference(_) => {
                self.err(e.span(), "a sub-slice `&s[..]` is only allowed as an argument of V::load / V::store or a loop source");
                None
            }
            Expr::Repeat(_) => {
                self.err(e.span(), "arrays `[value; N]` are only allowed as the initial value of a `let`");
                None
            }
            Expr::Closure(_) => {
                self.err(e.span(), "closures are not allowed in a kernel (no OpenCL translation); write a #[dsl_fn] helper");
                None
            }
            Expr::Macro(_) => {
                self.err(e.span(), "macros are not allowed in a kernel body (they have no OpenCL translation)");
                None
            }
            Expr::Match(_) => {
                self.err(e.span(), "`match` is not allowed; use `if` / `else if`");
                None
            }
            Expr::While(_) | Expr::Loop(_) => {
                self.err(e.span(), "`while` and `loop` are not allowed; use `for i in a..b` (every loop has a known trip count)");
                None
            }
            Expr::Unsafe(_) => {
                self.err(e.span(), "`unsafe` is not allowed in a kernel");
                None
            }
            Expr::Try(_) => {
                self.err(e.span(), "`?` is not allowed in a kernel");
                None
            }
            Expr::Tuple(_) | Expr::Struct(_) | Expr::Field(_) | Expr::Array(_) => {
                self.err(e.span(), "tuples, structs, fields and array literals are not allowed; use scalars, V::F32 and `[value; N]` arrays");
                None
            }
            Expr::ForLoop(_) | Expr::Assign(_) | Expr::Break(_) | Expr::Continue(_) | Expr::Return(_) => {
                self.err(e.span(), "this is a statement, not a value");
                None
            }
            _ => {
                self.err(e.span(), "this expression is not allowed in a kernel; allowed: literals, names, arithmetic and comparisons, `as` casts, indexing, `if c { a } else { b }`, V::primitive(..) and #[dsl_fn] helper calls, and min/max/abs/sqrt/exp/floor/ceil/tanh/len");
                None
            }
        }
    }

    fn lit(&mut self, l: &Lit, expected: Option<&Ty>) -> Option<(Ty, String)> {
        match l {
            Lit::Int(i) => {
                let ty = match i.suffix() {
                    "" => match expected {
                        Some(t @ (Ty::Usize | Ty::Isize | Ty::I32)) => t.clone(),
                        Some(Ty::F32) => Ty::F32,
                        _ => Ty::Usize,
                    },
                    "usize" => Ty::Usize,
                    "isize" => Ty::Isize,
                    "i32" => Ty::I32,
                    "f32" => Ty::F32,
                    other => {
                        self.err(l.span(), format!("integer suffix `{other}` is not allowed (usize, isize, i32)"));
                        return None;
                    }
                };
                let digits = i.base10_digits();
                if ty == Ty::F32 {
                    return Some((Ty::F32, format!("{digits}.0f")));
                }
                Some((ty, digits.to_string()))
            }
            Lit::Float(f) => {
                if !matches!(f.suffix(), "" | "f32") {
                    self.err(l.span(), "float literals are f32");
                    return None;
                }
                let d = f.base10_digits();
                let d = if d.contains(['.', 'e', 'E']) { d.to_string() } else { format!("{d}.0") };
                Some((Ty::F32, format!("{d}f")))
            }
            Lit::Bool(b) => Some((Ty::Bool, if b.value { "true" } else { "false" }.into())),
            _ => {
                self.err(l.span(), "only integer, float and bool literals are allowed");
                None
            }
        }
    }

    fn path(&mut self, p: &syn::ExprPath) -> Option<(Ty, String)> {
        let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [name] => {
                if let Some(l) = self.lookup(name) {
                    return Some((l.ty.clone(), c_ident(name)));
                }
                if self.consts.contains(name) {
                    return Some((Ty::Usize, name.clone()));
                }
                self.unknown(p.span(), name, format!("unknown variable `{name}` (locals, parameters and const parameters are allowed)"));
                None
            }
            [v, lanes] if *v == self.v.to_string() && lanes == "LANES" => Some((Ty::Usize, "LANES".into())),
            [f, c] if f == "f32" && matches!(c.as_str(), "MAX" | "MIN" | "INFINITY" | "NEG_INFINITY" | "EPSILON") => {
                let v = match c.as_str() {
                    "MAX" => "FLT_MAX",
                    "MIN" => "(-FLT_MAX)",
                    "INFINITY" => "INFINITY",
                    "NEG_INFINITY" => "(-INFINITY)",
                    _ => "FLT_EPSILON",
                };
                Some((Ty::F32, v.into()))
            }
            _ => {
                self.err(p.span(), "paths are not allowed here: use locals, parameters, const parameters, V::LANES or f32::MAX/MIN/INFINITY/NEG_INFINITY/EPSILON");
                None
            }
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary, expected: Option<&Ty>) -> Option<(Ty, String)> {
        if is_compound(&b.op) {
            self.err(b.op.span(), "compound assignment is a statement");
            return None;
        }
        let (sym, kind) = match b.op {
            BinOp::Add(_) => ("+", 0),
            BinOp::Sub(_) => ("-", 0),
            BinOp::Mul(_) => ("*", 0),
            BinOp::Div(_) => ("/", 0),
            BinOp::Rem(_) => ("%", 3),
            BinOp::Lt(_) => ("<", 1),
            BinOp::Le(_) => ("<=", 1),
            BinOp::Gt(_) => (">", 1),
            BinOp::Ge(_) => (">=", 1),
            BinOp::Eq(_) => ("==", 1),
            BinOp::Ne(_) => ("!=", 1),
            BinOp::And(_) => ("&&", 2),
            BinOp::Or(_) => ("||", 2),
            _ => {
                self.err(b.op.span(), "operator not allowed (allowed: + - * / % < <= > >= == != && ||)");
                return None;
            }
        };
        let operand_expected = if kind == 0 || kind == 3 { expected.cloned() } else { None };
        // Infer the left side first unless it is a bare literal (then let the right decide).
        let left_is_lit = matches!(strip_parens(&b.left), Expr::Lit(_));
        let (lt, lc, rt, rc) = if left_is_lit {
            let (rt, rc) = self.expr(&b.right, operand_expected.as_ref())?;
            let (lt, lc) = self.expr(&b.left, Some(&rt))?;
            (lt, lc, rt, rc)
        } else {
            let (lt, lc) = self.expr(&b.left, operand_expected.as_ref())?;
            let (rt, rc) = self.expr(&b.right, Some(&lt))?;
            (lt, lc, rt, rc)
        };
        if lt != rt {
            self.err(b.op.span(), format!("operands have different types: {} and {} (cast with `as`)", lt.name(), rt.name()));
            return None;
        }
        match kind {
            0 if lt.is_int() || lt == Ty::F32 => Some((lt, format!("({lc} {sym} {rc})"))),
            0 => {
                self.err(b.op.span(), format!("`{sym}` works on integers and f32; on vectors use V::add, V::mul, ..."));
                None
            }
            3 if lt.is_int() => Some((lt, format!("({lc} % {rc})"))),
            3 => {
                self.err(b.op.span(), "`%` works on integers only");
                None
            }
            1 if lt.is_int() || lt == Ty::F32 || (lt == Ty::Bool && matches!(sym, "==" | "!=")) => {
                Some((Ty::Bool, format!("({lc} {sym} {rc})")))
            }
            1 => {
                self.err(b.op.span(), format!("cannot compare {} values", lt.name()));
                None
            }
            _ if lt == Ty::Bool => Some((Ty::Bool, format!("({lc} {sym} {rc})"))),
            _ => {
                self.err(b.op.span(), format!("`{sym}` works on bool only"));
                None
            }
        }
    }

    fn call(&mut self, call: &syn::ExprCall, expected: Option<&Ty>) -> Option<(Ty, String)> {
        let Expr::Path(p) = &*call.func else {
            self.err(call.func.span(), "only `V::primitive(...)` and #[dsl_fn] helpers can be called");
            return None;
        };
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        let v_name = self.v.to_string();
        if segs.len() == 2 && segs[0].ident == v_name {
            let name = segs[1].ident.to_string();
            let Some((args, ret)) = primitive(&name) else {
                self.err(segs[1].ident.span(), format!("`{v_name}::{name}` is not a vector primitive; allowed: {PRIMITIVES}"));
                return None;
            };
            if call.args.len() != args.len() {
                self.err(segs[1].ident.span(), format!("`{v_name}::{name}` takes {} argument(s), found {}", args.len(), call.args.len()));
                return None;
            }
            let mut cs = Vec::new();
            for (a, kind) in call.args.iter().zip(args) {
                match kind {
                    Arg::Vec => {
                        let (t, c) = self.expr(a, Some(&Ty::Vector))?;
                        if t != Ty::Vector {
                            self.err(a.span(), format!("expected V::F32, found {} (use V::splat to broadcast)", t.name()));
                            return None;
                        }
                        cs.push(c);
                    }
                    Arg::Scalar => {
                        let (t, c) = self.expr(a, Some(&Ty::F32))?;
                        if t != Ty::F32 {
                            self.err(a.span(), format!("expected f32, found {}", t.name()));
                            return None;
                        }
                        cs.push(c);
                    }
                    Arg::SliceIn | Arg::SliceOut => {
                        let s = self.slice(a)?;
                        if matches!(kind, Arg::SliceOut) && !s.mutable {
                            self.err(a.span(), "stores need an output slice: `&mut y[i..]`");
                            return None;
                        }
                        cs.push(s.ptr);
                        cs.push(s.len);
                    }
                }
            }
            let c = match name.as_str() {
                "zero" => "((floatV)(0.0f))".to_string(),
                "splat" => format!("((floatV)({}))", cs[0]),
                "load" => format!("VLOAD(0, {})", cs[0]),
                "store" => format!("VSTORE({}, 0, {})", cs[2], cs[0]),
                "load_partial" => format!("fl_load_partial({}, {})", cs[0], cs[1]),
                "store_partial" => format!("fl_store_partial({}, {}, {})", cs[0], cs[1], cs[2]),
                "add" => format!("({} + {})", cs[0], cs[1]),
                "sub" => format!("({} - {})", cs[0], cs[1]),
                "mul" => format!("({} * {})", cs[0], cs[1]),
                "div" => format!("({} / {})", cs[0], cs[1]),
                "max" => format!("fmax({}, {})", cs[0], cs[1]),
                "min" => format!("fmin({}, {})", cs[0], cs[1]),
                "fma" => format!("fma({}, {}, {})", cs[0], cs[1], cs[2]),
                "abs" => format!("fabs({})", cs[0]),
                "neg" => format!("(-{})", cs[0]),
                "sqrt" => format!("sqrt({})", cs[0]),
                "floor" => format!("floor({})", cs[0]),
                "exp" => format!("exp({})", cs[0]),
                "sigmoid" => format!("(1.0f / (1.0f + exp(-{})))", cs[0]),
                "tanh" => format!("tanh({})", cs[0]),
                "reduce_sum" => format!("fl_reduce_sum({})", cs[0]),
                "reduce_max" => format!("fl_reduce_max({})", cs[0]),
                _ => return None,
            };
            return Some((ret, c));
        }
        if segs.len() == 1 && segs[0].arguments.is_none() {
            let name = segs[0].ident.to_string();
            let mut cs = Vec::new();
            for a in &call.args {
                // Slices pass as (pointer, length); everything else as a value.
                if let Some(s) = self.try_slice_arg(a) {
                    cs.push(s.ptr);
                    cs.push(s.len);
                } else {
                    let (_, c) = self.expr(a, None)?;
                    cs.push(c);
                }
            }
            self.helpers_used.insert(name.clone());
            let ret = self.helpers_known.get(&name).map(|h| h.ret.clone()).or_else(|| expected.cloned());
            let Some(ret) = ret else {
                self.err(call.span(), format!("the type of `{name}(..)` is not known here: bind it with a type, `let x: V::F32 = {name}(..);`"));
                return None;
            };
            return Some((ret, format!("{}({})", c_helper(&name), cs.join(", "))));
        }
        self.err(call.func.span(), format!("only `{v_name}::primitive(...)` and #[dsl_fn] helpers (called by their plain name) can be called"));
        None
    }

    fn try_slice_arg(&mut self, a: &Expr) -> Option<CSlice> {
        let is_slice = match strip_parens(a) {
            Expr::Reference(_) => true,
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|i| self.lookup(&i.to_string()))
                .is_some_and(|l| matches!(l.ty, Ty::Slice { .. })),
            _ => false,
        };
        if is_slice { self.slice(a) } else { None }
    }

    fn method(&mut self, m: &syn::ExprMethodCall, expected: Option<&Ty>) -> Option<(Ty, String)> {
        let name = m.method.to_string();
        if m.turbofish.is_some() {
            self.err(m.method.span(), "turbofish method calls are not allowed; write `a.min(b)` with `a` and `b` of one type");
            return None;
        }
        if name == "len" && m.args.is_empty() {
            let s = self.slice(&m.receiver)?;
            return Some((Ty::Usize, s.len));
        }
        let (rt, rc) = self.expr(&m.receiver, expected)?;
        match (name.as_str(), m.args.len()) {
            ("min" | "max", 1) if rt.is_int() || rt == Ty::F32 => {
                let a = m.args.first()?;
                let (at, ac) = self.expr(a, Some(&rt))?;
                if at != rt {
                    self.err(a.span(), format!("expected {}, found {}", rt.name(), at.name()));
                    return None;
                }
                let f = match (rt == Ty::F32, name.as_str()) {
                    (true, "min") => "fmin",
                    (true, _) => "fmax",
                    (false, "min") => "min",
                    (false, _) => "max",
                };
                Some((rt, format!("{f}({rc}, {ac})")))
            }
            ("abs", 0) if rt == Ty::F32 => Some((rt, format!("fabs({rc})"))),
            ("abs", 0) if matches!(rt, Ty::Isize | Ty::I32) => Some((rt, format!("abs({rc})"))),
            ("sqrt" | "exp" | "floor" | "ceil" | "tanh", 0) if rt == Ty::F32 => Some((rt, format!("{name}({rc})"))),
            _ => {
                self.err(
                    m.method.span(),
                    format!(
                        "method `{name}` is not allowed on {}; allowed: min, max (integers, f32), abs, sqrt, exp, floor, ceil, tanh (f32), len (slices){}",
                        rt.name(),
                        if rt == Ty::Vector { "; on V::F32 call the primitives: V::max(a, b), V::sqrt(v), ..." } else { "" }
                    ),
                );
                None
            }
        }
    }
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        Expr::Group(g) => strip_parens(&g.expr),
        other => other,
    }
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_)
            | BinOp::SubAssign(_)
            | BinOp::MulAssign(_)
            | BinOp::DivAssign(_)
            | BinOp::RemAssign(_)
            | BinOp::BitXorAssign(_)
            | BinOp::BitAndAssign(_)
            | BinOp::BitOrAssign(_)
            | BinOp::ShlAssign(_)
            | BinOp::ShrAssign(_)
    )
}

fn compatible(want: &Ty, got: &Ty) -> bool {
    want == got
}

/// OpenCL C shared by every kernel: the vector type and the primitives without a builtin.
pub fn opencl_prelude() -> String {
    let n = OPENCL_LANES;
    let mut s = String::new();
    let _ = writeln!(s, "// Generated by ferrolite-macros from the kernel DSL. Do not edit.");
    let _ = writeln!(s, "#define LANES {n}");
    let _ = writeln!(s, "typedef float{n} floatV;");
    let _ = writeln!(s, "#define VLOAD vload{n}");
    let _ = writeln!(s, "#define VSTORE vstore{n}");
    let _ = writeln!(
        s,
        "inline floatV fl_load_partial(__global const float* p, int n) {{ float t[LANES]; for (int i = 0; i < LANES; i++) t[i] = i < n ? p[i] : 0.0f; return vload{n}(0, t); }}"
    );
    let _ = writeln!(
        s,
        "inline void fl_store_partial(__global float* p, int n, floatV v) {{ float t[LANES]; vstore{n}(v, 0, t); for (int i = 0; i < LANES && i < n; i++) p[i] = t[i]; }}"
    );
    let _ = writeln!(
        s,
        "inline float fl_reduce_sum(floatV v) {{ float t[LANES]; vstore{n}(v, 0, t); float s = 0.0f; for (int i = 0; i < LANES; i++) s += t[i]; return s; }}"
    );
    let _ = writeln!(
        s,
        "inline float fl_reduce_max(floatV v) {{ float t[LANES]; vstore{n}(v, 0, t); float s = t[0]; for (int i = 1; i < LANES; i++) s = fmax(s, t[i]); return s; }}"
    );
    s
}


