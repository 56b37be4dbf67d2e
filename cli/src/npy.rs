//! Reading and writing `.npy` files (numpy's array format) as runtime tensors.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use ferrolite_runtime::ir::DType;
use ferrolite_runtime::Tensor;
use npyz::WriterBuilder;

/// Reads a C-ordered `.npy` file of f32, f64 (narrowed to f32), i64, i32, u8, i8 or bool.
pub fn read(path: &Path) -> Result<Tensor, String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| format!("{shown}: not a .npy file: {e}"))?;
    if npy.order() != npyz::Order::C {
        return Err(format!("{shown}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray"));
    }
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("{shown}: dimension {d} is too large")))
        .collect::<Result<_, _>>()?;
    let type_str = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => return Err(format!("{shown}: structured dtype {other:?} is not supported")),
    };
    let bad = |e: std::io::Error| format!("{shown}: {e}");
    let tensor = match type_str.trim_start_matches(['<', '|', '=']) {
        "f4" => Tensor::from_slice(&shape, &npy.into_vec::<f32>().map_err(bad)?),
        "f8" => {
            let v: Vec<f32> = npy.into_vec::<f64>().map_err(bad)?.into_iter().map(|x| x as f32).collect();
            Tensor::from_slice(&shape, &v)
        }
        "i8" => Tensor::from_slice(&shape, &npy.into_vec::<i64>().map_err(bad)?),
        "i4" => Tensor::from_slice(&shape, &npy.into_vec::<i32>().map_err(bad)?),
        "u1" => Tensor::from_slice(&shape, &npy.into_vec::<u8>().map_err(bad)?),
        "i1" => Tensor::from_slice(&shape, &npy.into_vec::<i8>().map_err(bad)?),
        "b1" => {
            let v: Vec<u8> = npy.into_vec::<bool>().map_err(bad)?.into_iter().map(u8::from).collect();
            Tensor::from_bytes(DType::Bool, &shape, &v)
        }
        other => return Err(format!("{shown}: dtype {other} is not supported (use float32, int64, int32, uint8, int8 or bool)")),
    };
    tensor.map_err(|e| format!("{shown}: {e}"))
}

/// Writes a tensor as a C-ordered `.npy` file.
pub fn write(path: &Path, tensor: &Tensor) -> Result<(), String> {
    let shown = path.display();
    let shape: Vec<u64> = tensor.shape().iter().map(|&d| d as u64).collect();
    let file = File::create(path).map_err(|e| format!("{shown}: {e}"))?;
    let io = |e: std::io::Error| format!("{shown}: {e}");
    macro_rules! put {
        ($t:ty, $values:expr) => {{
            let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(BufWriter::new(file)).begin_nd().map_err(io)?;
            w.extend($values).map_err(io)?;
            w.finish().map_err(io)?;
        }};
    }
    let e = |e: ferrolite_runtime::Error| format!("{shown}: {e}");
    match tensor.dtype() {
        DType::F32 => put!(f32, tensor.as_slice::<f32>().map_err(e)?.iter().copied()),
        DType::I64 => put!(i64, tensor.as_slice::<i64>().map_err(e)?.iter().copied()),
        DType::I32 => put!(i32, tensor.as_slice::<i32>().map_err(e)?.iter().copied()),
        DType::U8 => put!(u8, tensor.as_slice::<u8>().map_err(e)?.iter().copied()),
        DType::I8 => put!(i8, tensor.as_slice::<i8>().map_err(e)?.iter().copied()),
        DType::Bool => put!(bool, tensor.bytes().iter().map(|&b| b != 0)),
        DType::F16 => return Err(format!("{shown}: f16 outputs are not written")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_f32_and_i64() {
        let dir = std::env::temp_dir().join(format!("ferrolite-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = Tensor::from_slice(&[2, 3], &[1.0f32, -2.0, 3.5, 0.0, 7.0, 8.0]).unwrap();
        let b = Tensor::from_slice(&[4], &[1i64, -2, 3, i64::MAX]).unwrap();
        for (name, t) in [("a.npy", &a), ("b.npy", &b)] {
            let p = dir.join(name);
            write(&p, t).unwrap();
            let back = read(&p).unwrap();
            assert_eq!(back.shape(), t.shape());
            assert_eq!(back.dtype(), t.dtype());
            assert_eq!(back.bytes(), t.bytes());
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn garbage_is_an_error() {
        let p = std::env::temp_dir().join(format!("ferrolite-npy-bad-{}.npy", std::process::id()));
        std::fs::write(&p, b"\x93NUMPY garbage").unwrap();
        assert!(read(&p).is_err());
        std::fs::remove_file(&p).ok();
    }
}
