use ferrolite_dsl::kernel::Parallel;
use ferrolite_kernels::probe::axpb_relu;
use ferrolite_targets::{Scalar, Simd};

fn check<S: Simd>(s: S) {
    let rows = 5;
    let n = 21;
    let x: Vec<f32> = (0..rows * n).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut y = vec![0f32; rows * n];
    axpb_relu::launch::<S, 1>(s, &Parallel::SERIAL, &mut y, n, &x, n, 2.0, -0.25);
    for i in 0..rows * n {
        assert_eq!(y[i], (2.0 * x[i] - 0.25).max(0.0), "{:?} {i}", S::ISA);
    }
}

#[test]
fn runs_on_every_isa() {
    check(Scalar::new().unwrap());
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = ferrolite_targets::Avx2::new() {
        check(s);
    }
    println!("{}", axpb_relu::opencl_source());
}
