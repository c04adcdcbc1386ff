//! The PyTorch twin (`bench/train_twin.py`) as a server beside a benchmark: one line in
//! (`key reps`), one line out (the median seconds), so Burn and PyTorch take turns.
//!
//! CPU backends are compared with the twin on the CPU (same thread count), CUDA with the twin
//! on the GPU (`--device cuda`); `--backends a,b` picks the benchmark's rows.
// Each benchmark that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The PyTorch twin, running as a server: one line in (`key reps`), one line out (seconds).
pub struct Twin {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    /// The twin's version line (`PyTorch 2.9.0`).
    pub version: String,
}

impl Twin {
    /// Starts `bench/train_twin.py --serve` with `threads` threads on `device` (`cpu`,
    /// `cuda`), if `python3` has torch.
    pub fn start(threads: usize, device: &str) -> Result<Twin, String> {
        let has_torch = Command::new("python3")
            .args(["-c", "import torch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_torch {
            return Err("`python3 -c \"import torch\"` fails here".into());
        }
        let mut child = Command::new("python3")
            .arg(twin_script())
            .args([
                "--serve",
                "--threads",
                &threads.to_string(),
                "--device",
                device,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start python3: {e}"))?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("no pipes to python3".into());
        };
        let mut twin = Twin {
            child,
            input,
            output: BufReader::new(output),
            version: String::new(),
        };
        twin.version = twin.line()?;
        Ok(twin)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.output.read_line(&mut line) {
            Ok(0) | Err(_) => Err("the PyTorch twin stopped".into()),
            Ok(_) => Ok(line.trim().to_owned()),
        }
    }

    /// Starts the twin and says so, or says why not (`None`: Burn's columns only).
    pub fn start_reporting(threads: usize, device: &str) -> Option<Twin> {
        match Twin::start(threads, device) {
            Ok(twin) => {
                println!(
                    "PyTorch twin ({device}): {} ({threads} threads)",
                    twin.version
                );
                Some(twin)
            }
            Err(err) => {
                println!("PyTorch twin ({device}) unavailable ({err}): Burn only.");
                None
            }
        }
    }

    /// The median of `reps` runs of `key` in the twin.
    pub fn time(&mut self, key: &str, reps: usize) -> Result<Duration, String> {
        writeln!(self.input, "{key} {reps}").map_err(|e| e.to_string())?;
        self.input.flush().map_err(|e| e.to_string())?;
        let line = self.line()?;
        let seconds: f64 = line
            .parse()
            .map_err(|_| format!("the twin answered `{line}`"))?;
        Ok(Duration::from_secs_f64(seconds))
    }
}

impl Drop for Twin {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "quit");
        let _ = self.child.wait();
    }
}

/// The median of a few rounds' medians.
pub fn mid(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// `bench/train_twin.py` of the repository the benchmark runs in: cargo (and the prepared GPU
/// run) set `CARGO_MANIFEST_DIR` at run time, so a binary built elsewhere finds it too.
pub fn twin_script() -> std::path::PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    manifest.join("../../bench/train_twin.py")
}

/// The device the PyTorch reference of `kind` runs on (`None`: no twin, as for wgpu).
pub fn twin_device(kind: d2l_device::backend::BackendKind) -> Option<&'static str> {
    use d2l_device::backend::BackendKind;
    match kind {
        BackendKind::Flex | BackendKind::Tch | BackendKind::NdArray => Some("cpu"),
        BackendKind::Cuda => Some("cuda"),
        BackendKind::Wgpu => None,
    }
}

/// The rows a benchmark runs: `--backends a,b` if given (compiled ones only), else `default`.
pub fn chosen_backends(
    default: Vec<d2l_device::backend::BackendKind>,
) -> Result<Vec<d2l_device::backend::BackendKind>, String> {
    use d2l_device::backend::BackendKind;
    let args: Vec<String> = std::env::args().collect();
    let Some(i) = args.iter().position(|a| a == "--backends") else {
        return Ok(default);
    };
    let list = args.get(i + 1).ok_or("--backends a,b")?;
    list.split(',')
        .map(|name| {
            BackendKind::compiled()
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| format!("backend `{name}` is not compiled in"))
        })
        .collect()
}

/// CUDA if it is compiled in and a GPU answers here.
pub fn cuda_if_present() -> Vec<d2l_device::backend::BackendKind> {
    use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
    struct Probe;
    impl BackendTask for Probe {
        type Output = ();
        fn run<B: DeviceBackend>(self, _device: &B::Device) {}
    }
    let cuda = BackendKind::Cuda;
    if cuda.is_compiled() && run_on(cuda, Probe).is_ok() {
        vec![cuda]
    } else {
        Vec::new()
    }
}

/// The CPU backends compiled in, fastest first (`tch`: PyTorch's kernels under our blocks):
/// the twin, on the CPU, is their reference.
pub fn cpu_backends() -> Vec<d2l_device::BackendKind> {
    use d2l_device::BackendKind;
    [BackendKind::Flex, BackendKind::Tch, BackendKind::NdArray]
        .into_iter()
        .filter(|k| BackendKind::compiled().contains(k))
        .collect()
}
