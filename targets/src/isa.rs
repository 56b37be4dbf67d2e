//! Instruction sets kernel variants are compiled for, and their run-time detection.

/// An instruction set a CPU kernel variant is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust, one lane: runs everywhere.
    Scalar,
    /// x86_64 AVX2 with FMA3 (8 f32 lanes).
    Avx2,
    /// x86_64 AVX-512 Foundation (16 f32 lanes).
    Avx512f,
    /// aarch64 Advanced SIMD (4 f32 lanes).
    Neon,
}

impl Isa {
    /// Every ISA, in order of increasing preference on its architecture.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512f, Isa::Neon];

    /// Name used in variant ids (`scalar`, `avx2`, `avx512f`, `neon`).
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512f => "avx512f",
            Isa::Neon => "neon",
        }
    }

    /// Parses a name from [`Isa::name`].
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name() == name)
    }

    /// The architecture the ISA belongs to (`None` for scalar: every architecture).
    pub const fn arch(self) -> Option<&'static str> {
        match self {
            Isa::Scalar => None,
            Isa::Avx2 | Isa::Avx512f => Some("x86_64"),
            Isa::Neon => Some("aarch64"),
        }
    }

    /// f32 lanes per vector register.
    pub const fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 8,
            Isa::Avx512f => 16,
            Isa::Neon => 4,
        }
    }

    /// Whether this build contains code for the ISA (its architecture is the target's).
    pub const fn compiled(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2 | Isa::Avx512f => cfg!(target_arch = "x86_64"),
            Isa::Neon => cfg!(target_arch = "aarch64"),
        }
    }

    /// Whether the CPU running this process supports the ISA (checked at run time; the
    /// result is cached by the standard library).
    pub fn available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512f => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The ISAs this CPU supports, most capable last.
    pub fn detected() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.available()).collect()
    }

    /// The most capable ISA this CPU supports.
    pub fn best() -> Isa {
        Isa::detected().into_iter().max_by_key(|i| i.lanes()).unwrap_or(Isa::Scalar)
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::from_name(isa.name()), Some(isa));
        }
        assert!(Isa::Scalar.available());
        assert!(Isa::detected().contains(&Isa::best()));
    }
}
