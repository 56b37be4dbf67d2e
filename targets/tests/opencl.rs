//! The OpenCL host backend on every OpenCL device of this machine (PoCL in CI).
//!
//! With `FERROLITE_EXPECT_OPENCL=1` (set by `scripts/test.sh`) a machine without a device
//! fails these tests; otherwise they print a note and pass without running.
#![cfg(feature = "opencl")]

use ferrolite_targets::opencl::{self, Context, DeviceInfo, KernelArg, OpenClError};

/// The devices to test on, or `None` (after a printed note) when there are none and none
/// are expected.
fn devices_or_skip(test: &str) -> Option<Vec<DeviceInfo>> {
    let expected = opencl::expected().unwrap();
    let found = opencl::try_devices();
    match found {
        Ok(devices) if !devices.is_empty() => Some(devices),
        other => {
            let why = match other {
                Ok(_) => "no OpenCL device".to_string(),
                Err(e) => format!("OpenCL unavailable: {e}"),
            };
            assert!(!expected, "FERROLITE_EXPECT_OPENCL=1 but {why}");
            eprintln!("note: {test} skipped: {why} (set FERROLITE_EXPECT_OPENCL=1 to make this a failure)");
            None
        }
    }
}

/// y[i] = a * x[i] + b over ranges of two buffers, with the grid checked in the kernel.
const AXPB: &str = r#"
__kernel void axpb(int grid,
                   __global float* y, int y_off, int y_len,
                   __global const float* x, int x_off, int x_len,
                   float a, float b) {
    int gid = get_global_id(0);
    if (gid >= grid || gid >= y_len || gid >= x_len) return;
    y[y_off + gid] = a * x[x_off + gid] + b;
}
"#;

#[test]
fn discovery_describes_devices() {
    let Some(devices) = devices_or_skip("discovery_describes_devices") else { return };
    for (i, d) in devices.iter().enumerate() {
        eprintln!("device {i}: {}", d.fingerprint());
        assert_eq!(d.index, i);
        assert!(!d.platform.is_empty() && !d.name.is_empty(), "{d:?}");
        assert!(d.opencl_version.starts_with("OpenCL "), "CL_DEVICE_VERSION {:?}", d.opencl_version);
        assert!(d.opencl_c_version.starts_with("OpenCL C "), "{:?}", d.opencl_c_version);
        assert!(d.compute_units >= 1 && d.max_work_group_size >= 1, "{d:?}");
        assert!(d.global_mem_bytes >= d.max_alloc_bytes && d.max_alloc_bytes > 0, "{d:?}");
        // OpenCL 1.2 requires at least 32 KiB of local memory on non-custom devices.
        assert!(d.local_mem_bytes >= 32 * 1024, "{d:?}");
        assert!(d.preferred_float_width >= 1, "{d:?}");
        assert!(d.fingerprint().contains(&d.name));
    }
    // Discovery is repeatable (the tuner keys records by it).
    let again = opencl::devices();
    assert_eq!(
        again.iter().map(DeviceInfo::fingerprint).collect::<Vec<_>>(),
        devices.iter().map(DeviceInfo::fingerprint).collect::<Vec<_>>()
    );
}

#[test]
fn kernel_over_sub_ranges_matches_hand_computed_values() {
    let Some(devices) = devices_or_skip("kernel_over_sub_ranges_matches_hand_computed_values") else { return };
    for device in &devices {
        let ctx = Context::new(device).unwrap();
        let program = ctx.program(AXPB, "").unwrap();
        assert_eq!(program.kernel_names(), ["axpb"]);
        let x: Vec<f32> = (0..40).map(|i| i as f32 * 0.5 - 3.0).collect();
        let xb = ctx.buffer_from(&x).unwrap();
        let yb = ctx.buffer_from(&[-7.0; 50]).unwrap();
        // 13 outputs at y[17..30] from x[5..18]; grid 13 is not a multiple of any work-group
        // size, so padding work-items must be ignored by the kernel.
        for local in [None, Some(1), Some(4)] {
            let args = [
                KernelArg::I32(13),
                KernelArg::Range(yb.range(17..30).unwrap()),
                KernelArg::Range(xb.range(5..18).unwrap()),
                KernelArg::F32(2.5),
                KernelArg::F32(-1.25),
            ];
            // SAFETY: AXPB writes y[y_off + gid] and reads x[x_off + gid] only for
            // gid < min(grid, y_len, x_len), inside the ranges passed.
            unsafe { ctx.launch(&program, "axpb", 13, local, &args) }.unwrap();
            let mut y = vec![0.0; 50];
            ctx.download(&yb, 0, &mut y).unwrap();
            for (i, &v) in y.iter().enumerate() {
                let want = if (17..30).contains(&i) { 2.5 * x[i - 17 + 5] - 1.25 } else { -7.0 };
                assert_eq!(v, want, "{} local {local:?}: y[{i}]", device.name);
            }
        }
        // Download of a sub-range; upload into a sub-range.
        let mut part = [0.0; 3];
        ctx.download(&xb, 10, &mut part).unwrap();
        assert_eq!(part, [x[10], x[11], x[12]]);
        let mut yb = yb;
        ctx.upload(&mut yb, 48, &[1.0, 2.0]).unwrap();
        let mut tail = [0.0; 3];
        ctx.download(&yb, 47, &mut tail).unwrap();
        assert_eq!(tail, [-7.0, 1.0, 2.0]);
        // A new buffer is zero-filled.
        let zb = ctx.buffer(5).unwrap();
        let mut z = [1.0; 5];
        ctx.download(&zb, 0, &mut z).unwrap();
        assert_eq!(z, [0.0; 5]);
    }
}

#[test]
fn large_grid_covers_every_work_item() {
    let Some(devices) = devices_or_skip("large_grid_covers_every_work_item") else { return };
    for device in &devices {
        let ctx = Context::new(device).unwrap();
        let program = ctx.program(AXPB, "").unwrap();
        let n = 100_003; // prime: several work-groups plus a ragged end
        let x: Vec<f32> = (0..n).map(|i| (i % 251) as f32).collect();
        let xb = ctx.buffer_from(&x).unwrap();
        let yb = ctx.buffer(n).unwrap();
        let args = [
            KernelArg::I32(n as i32),
            KernelArg::Range(yb.all()),
            KernelArg::Range(xb.all()),
            KernelArg::F32(-2.0),
            KernelArg::F32(0.5),
        ];
        // SAFETY: AXPB stays inside the ranges passed (see above).
        unsafe { ctx.launch(&program, "axpb", n, None, &args) }.unwrap();
        let mut y = vec![f32::NAN; n];
        ctx.download(&yb, 0, &mut y).unwrap();
        for i in 0..n {
            assert_eq!(y[i], -2.0 * x[i] + 0.5, "y[{i}]");
        }
    }
}

#[test]
fn build_errors_carry_the_compiler_log() {
    let Some(devices) = devices_or_skip("build_errors_carry_the_compiler_log") else { return };
    let ctx = Context::new(&devices[0]).unwrap();
    let broken = "__kernel void f(__global float* y) { y[0] = undeclared_name_xyz; }";
    match ctx.program(broken, "-DMR=6") {
        Err(OpenClError::Build { code, options, log }) => {
            assert_eq!(code, -11, "CL_BUILD_PROGRAM_FAILURE");
            assert!(log.contains("undeclared_name_xyz"), "build log does not name the error: {log}");
            assert!(options.contains("-cl-std=CL1.2") && options.contains("-DMR=6"), "{options}");
        }
        other => panic!("expected a build error, got {other:?}"),
    }
    // A failed build is not cached: the same source fails again (and compiles once more).
    let before = ctx.programs_built();
    assert!(ctx.program(broken, "-DMR=6").is_err());
    assert_eq!(ctx.programs_built(), before + 1);
}

#[test]
fn programs_are_cached_by_source_and_options() {
    let Some(devices) = devices_or_skip("programs_are_cached_by_source_and_options") else { return };
    let ctx = Context::new(&devices[0]).unwrap();
    // The build option decides the constant: a wrong cache hit would show in the values.
    let src = "__kernel void k(int grid, __global float* y, int off, int len) {
                   int gid = get_global_id(0);
                   if (gid < grid && gid < len) y[off + gid] = (float)(MR * 10 + gid);
               }";
    let p6 = ctx.program(src, "-DMR=6").unwrap();
    assert_eq!(ctx.programs_built(), 1);
    let p6_again = ctx.program(src, "-DMR=6").unwrap();
    assert!(std::sync::Arc::ptr_eq(&p6, &p6_again), "same source and options must hit the cache");
    assert_eq!(ctx.programs_built(), 1);
    let p4 = ctx.program(src, "-DMR=4").unwrap();
    assert!(!std::sync::Arc::ptr_eq(&p6, &p4));
    assert_eq!(ctx.programs_built(), 2);
    let p4_other_source = ctx.program(&format!("{src}\n"), "-DMR=4").unwrap();
    assert!(!std::sync::Arc::ptr_eq(&p4, &p4_other_source));
    assert_eq!(ctx.programs_built(), 3);
    assert!(p6.options().ends_with("-DMR=6"));

    let yb = ctx.buffer(3).unwrap();
    for (program, mr) in [(&p6, 6.0), (&p4, 4.0), (&p6_again, 6.0)] {
        let args = [KernelArg::I32(3), KernelArg::Range(yb.all())];
        // SAFETY: `k` writes y[off + gid] only for gid < min(grid, len).
        unsafe { ctx.launch(program, "k", 3, None, &args) }.unwrap();
        let mut y = [0.0; 3];
        ctx.download(&yb, 0, &mut y).unwrap();
        assert_eq!(y, [mr * 10.0, mr * 10.0 + 1.0, mr * 10.0 + 2.0]);
    }
}

#[test]
fn misuse_is_an_error_not_a_crash() {
    let Some(devices) = devices_or_skip("misuse_is_an_error_not_a_crash") else { return };
    let ctx = Context::new(&devices[0]).unwrap();
    let program = ctx.program(AXPB, "").unwrap();
    let xb = ctx.buffer_from(&[1.0; 8]).unwrap();
    let yb = ctx.buffer(8).unwrap();
    let signature = |r: Result<(), OpenClError>| match r {
        Err(OpenClError::Signature { kernel, detail }) => format!("{kernel}: {detail}"),
        other => panic!("expected a signature error, got {other:?}"),
    };
    // Ranges outside their buffer are refused when they are made.
    assert!(matches!(yb.range(4..9), Err(OpenClError::Invalid(_))));
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = yb.range(5..4);
    assert!(reversed.is_err());
    // Too few arguments (a buffer where a range's three parameters are expected).
    let args = [KernelArg::I32(8), KernelArg::Buffer(&yb), KernelArg::Range(xb.all()), KernelArg::F32(1.0), KernelArg::F32(0.0)];
    // SAFETY: refused before anything runs (checked below).
    let e = signature(unsafe { ctx.launch(&program, "axpb", 8, None, &args) });
    assert!(e.contains("7 arguments") && e.contains("9 parameters"), "{e}");
    // Right count, wrong kinds (a float where an int is expected).
    let args = [KernelArg::F32(8.0), KernelArg::Range(yb.all()), KernelArg::Range(xb.all()), KernelArg::F32(1.0), KernelArg::F32(0.0)];
    // SAFETY: refused before anything runs (checked below).
    let e = signature(unsafe { ctx.launch(&program, "axpb", 8, None, &args) });
    assert!(e.contains("argument 0 is a float, the parameter is int"), "{e}");
    // Unknown kernel name.
    let args = [KernelArg::I32(8)];
    // SAFETY: refused before anything runs (checked below).
    let e = signature(unsafe { ctx.launch(&program, "nope", 8, None, &args) });
    assert!(e.contains("no such kernel") && e.contains("axpb"), "{e}");
    // A work-group size beyond the kernel's limit.
    let args = [KernelArg::I32(8), KernelArg::Range(yb.all()), KernelArg::Range(xb.all()), KernelArg::F32(1.0), KernelArg::F32(0.0)];
    // SAFETY: refused before anything runs (checked below).
    let r = unsafe { ctx.launch(&program, "axpb", 8, Some(usize::MAX), &args) };
    assert!(matches!(r, Err(OpenClError::Invalid(_))), "{r:?}");
    // Out-of-range transfers.
    let mut out = [0.0; 4];
    assert!(matches!(ctx.download(&yb, 6, &mut out), Err(OpenClError::Invalid(_))));
    let mut zb = ctx.buffer(2).unwrap();
    assert!(matches!(ctx.upload(&mut zb, usize::MAX, &[1.0]), Err(OpenClError::Invalid(_))));
    assert!(matches!(ctx.upload(&mut zb, 1, &[1.0, 2.0]), Err(OpenClError::Invalid(_))));
    // Buffers and programs of another context.
    let other = Context::new(&devices[0]).unwrap();
    assert!(matches!(other.download(&xb, 0, &mut out), Err(OpenClError::Invalid(_))));
    // SAFETY: refused before anything runs (checked below).
    let r = unsafe { other.launch(&program, "axpb", 8, None, &args) };
    assert!(matches!(r, Err(OpenClError::Invalid(_))), "{r:?}");
    // Grid 0 checks the arguments and runs nothing.
    // SAFETY: nothing runs.
    unsafe { ctx.launch(&program, "axpb", 0, None, &args) }.unwrap();
    // A buffer larger than the device allows.
    assert!(matches!(ctx.buffer(usize::MAX / 2), Err(OpenClError::Invalid(_))));
    // An empty buffer is valid and has no elements to transfer.
    let empty = ctx.buffer_from(&[]).unwrap();
    assert!(empty.is_empty());
    ctx.download(&empty, 0, &mut []).unwrap();
}

#[test]
fn contexts_and_launches_from_several_threads() {
    let Some(devices) = devices_or_skip("contexts_and_launches_from_several_threads") else { return };
    let device = &devices[0];
    let shared = Context::new(device).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let shared = &shared;
            s.spawn(move || {
                // Every other thread opens its own context; all build the same program.
                let own;
                let ctx = if t % 2 == 0 {
                    shared
                } else {
                    own = Context::new(device).unwrap();
                    &own
                };
                let program = ctx.program(AXPB, "").unwrap();
                let x: Vec<f32> = (0..300).map(|i| (i + t) as f32).collect();
                let xb = ctx.buffer_from(&x).unwrap();
                let yb = ctx.buffer(300).unwrap();
                for round in 0..10 {
                    let a = (t * 10 + round) as f32;
                    let args = [
                        KernelArg::I32(300),
                        KernelArg::Range(yb.all()),
                        KernelArg::Range(xb.all()),
                        KernelArg::F32(a),
                        KernelArg::F32(1.0),
                    ];
                    // SAFETY: AXPB stays inside the ranges passed (see above).
                    unsafe { ctx.launch(&program, "axpb", 300, None, &args) }.unwrap();
                    let mut y = vec![0.0; 300];
                    ctx.download(&yb, 0, &mut y).unwrap();
                    for i in 0..300 {
                        assert_eq!(y[i], a * x[i] + 1.0, "thread {t} round {round} y[{i}]");
                    }
                }
            });
        }
    });
    // The two threads on the shared context built the program once between them.
    assert_eq!(shared.programs_built(), 1);
}
