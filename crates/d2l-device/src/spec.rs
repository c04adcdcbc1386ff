//! Device names as users type them: `cpu`, `gpu:1`, `cuda`, `cuda:1`, `wgpu:0`.

use core::fmt;
use core::str::FromStr;

use crate::DeviceError;

/// A backend-independent device name, parsed from and displayed as the strings users type.
///
/// The syntax follows PyTorch's `torch.device`: a kind, optionally `:` and an index. A kind
/// without an index means "that kind's default device", as `torch.device("cuda")` does.
///
/// | text      | value                     | meaning                                       |
/// |-----------|---------------------------|-----------------------------------------------|
/// | `cpu`     | `DeviceSpec::Cpu`         | the backend's CPU device                      |
/// | `gpu:1`   | `DeviceSpec::Gpu(1)`      | GPU 1 of whichever GPU backend is in use      |
/// | `cuda`    | `DeviceSpec::Cuda(None)`  | CUDA's default device (GPU 0)                 |
/// | `cuda:1`  | `DeviceSpec::Cuda(Some(1))` | CUDA GPU 1                                  |
/// | `wgpu`    | `DeviceSpec::Wgpu(None)`  | wgpu's default adapter (may be a CPU adapter) |
/// | `wgpu:0`  | `DeviceSpec::Wgpu(Some(0))` | wgpu GPU adapter 0                          |
///
/// ```
/// use d2l_device::DeviceSpec;
///
/// let spec: DeviceSpec = "cuda:1".parse().unwrap();
/// assert_eq!(spec, DeviceSpec::Cuda(Some(1)));
/// assert_eq!(spec.to_string(), "cuda:1");
/// assert!("tpu".parse::<DeviceSpec>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    /// The CPU.
    Cpu,
    /// GPU `i` of whichever GPU backend is in use (the book's `gpu(i)` / `try_gpu(i)`).
    Gpu(usize),
    /// A CUDA device; `None` is CUDA's default device.
    Cuda(Option<usize>),
    /// A wgpu adapter; `None` is wgpu's default adapter, `Some(i)` the `i`-th GPU adapter.
    Wgpu(Option<usize>),
}

impl DeviceSpec {
    /// The GPU index this name refers to, if it names a GPU (`cuda` alone is GPU 0).
    pub fn gpu_index(&self) -> Option<usize> {
        match *self {
            DeviceSpec::Cpu | DeviceSpec::Wgpu(None) => None,
            DeviceSpec::Gpu(i) | DeviceSpec::Cuda(Some(i)) | DeviceSpec::Wgpu(Some(i)) => Some(i),
            DeviceSpec::Cuda(None) => Some(0),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Gpu(i) => write!(f, "gpu:{i}"),
            DeviceSpec::Cuda(None) => f.write_str("cuda"),
            DeviceSpec::Cuda(Some(i)) => write!(f, "cuda:{i}"),
            DeviceSpec::Wgpu(None) => f.write_str("wgpu"),
            DeviceSpec::Wgpu(Some(i)) => write!(f, "wgpu:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let parse_error = |reason: &str| DeviceError::Parse {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let text = input.trim().to_ascii_lowercase();
        let (kind, index) = match text.split_once(':') {
            Some((kind, index)) => {
                let index = index.parse::<usize>().map_err(|_| {
                    parse_error("the index after `:` must be a non-negative integer")
                })?;
                (kind.to_owned(), Some(index))
            }
            None => (text, None),
        };
        match (kind.as_str(), index) {
            ("cpu", None) => Ok(DeviceSpec::Cpu),
            ("cpu", Some(_)) => Err(parse_error("there is one CPU device; write `cpu`")),
            ("gpu", index) => Ok(DeviceSpec::Gpu(index.unwrap_or(0))),
            ("cuda", index) => Ok(DeviceSpec::Cuda(index)),
            ("wgpu", index) => Ok(DeviceSpec::Wgpu(index)),
            ("", _) => Err(parse_error("the name is empty")),
            _ => Err(parse_error("unknown device kind")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: DeviceSpec, shown: &str) {
        let spec: DeviceSpec = text.parse().expect("valid device name");
        assert_eq!(spec, expected);
        assert_eq!(spec.to_string(), shown);
        assert_eq!(
            shown.parse::<DeviceSpec>(),
            Ok(expected),
            "display round-trips"
        );
    }

    #[test]
    fn parses_the_names_users_type() {
        check("cpu", DeviceSpec::Cpu, "cpu");
        check(" CPU ", DeviceSpec::Cpu, "cpu");
        check("gpu", DeviceSpec::Gpu(0), "gpu:0");
        check("gpu:3", DeviceSpec::Gpu(3), "gpu:3");
        check("cuda", DeviceSpec::Cuda(None), "cuda");
        check("cuda:1", DeviceSpec::Cuda(Some(1)), "cuda:1");
        check("wgpu", DeviceSpec::Wgpu(None), "wgpu");
        check("wgpu:0", DeviceSpec::Wgpu(Some(0)), "wgpu:0");
    }

    #[test]
    fn rejects_bad_names_with_a_reason() {
        for bad in ["tpu", "cuda:x", "cuda:-1", "", "cpu:1", ":0", "cuda:1:2"] {
            let err = bad.parse::<DeviceSpec>().expect_err(bad);
            let DeviceError::Parse { input, reason } = &err else {
                panic!("{bad}: wrong error {err:?}")
            };
            assert_eq!(input, bad);
            assert!(!reason.is_empty());
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn gpu_index_of_each_kind() {
        assert_eq!(DeviceSpec::Cpu.gpu_index(), None);
        assert_eq!(DeviceSpec::Cuda(None).gpu_index(), Some(0));
        assert_eq!(DeviceSpec::Wgpu(None).gpu_index(), None);
        assert_eq!(DeviceSpec::Gpu(2).gpu_index(), Some(2));
    }
}
