//! The PyTorch twin (`bench/train_twin.py`) as a server beside a benchmark: one line in
//! (`key reps`), one line out (the median seconds), so Burn and PyTorch take turns.

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
    /// Starts `bench/train_twin.py --serve` with `threads` threads, if `python3` has torch.
    pub fn start(threads: usize) -> Result<Twin, String> {
        let has_torch = Command::new("python3")
            .args(["-c", "import torch"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_torch {
            return Err("`python3 -c \"import torch\"` fails here".into());
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/train_twin.py");
        let mut child = Command::new("python3")
            .args([script, "--serve", "--threads", &threads.to_string()])
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
    pub fn start_reporting(threads: usize) -> Option<Twin> {
        match Twin::start(threads) {
            Ok(twin) => {
                println!("PyTorch twin: {} ({threads} threads)", twin.version);
                Some(twin)
            }
            Err(err) => {
                println!("PyTorch twin unavailable ({err}): Burn only.");
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

/// The CPU backends compiled in, fastest first (`tch`: PyTorch's kernels under our blocks):
/// the twin, on the CPU, is their reference.
pub fn cpu_backends() -> Vec<d2l_device::BackendKind> {
    use d2l_device::BackendKind;
    [BackendKind::Flex, BackendKind::Tch, BackendKind::NdArray]
        .into_iter()
        .filter(|k| BackendKind::compiled().contains(k))
        .collect()
}
