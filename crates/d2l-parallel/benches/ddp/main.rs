//! `cargo xtask bench ddp` (issue 26): data-parallel LeNet training on 1, 2 and 4 processes
//! under `mpirun` (`MpiComm`, flex) against PyTorch's DDP under `torchrun` (gloo), the same
//! model and global batch, interleaved in one run; and all-reduce time of `MpiComm` against
//! MPI's own `MPI_Allreduce` (a C program built with `mpicc`) and gloo, same buffer sizes.
//!
//! Each process gets `cores / world` threads (at least one), in both frameworks. Results are
//! medians over rounds of per-run medians; the Markdown tables go to stdout.
//!
//! Options: `--rounds N` (3), `--steps N` (10), `--batch N` (256), `--worlds 1,2,4`.
//! `--worker …` is what `mpirun` starts (see `worker.rs`).

mod worker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// Buffer sizes (f32 values) of the all-reduce rows: LeNet's 61 706 parameters, then 1 Mi and
/// 16 Mi values (ResNet-18 holds 11.7 M).
const SIZES: [usize; 3] = [61_706, 1 << 20, 1 << 24];

fn option(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// `mpirun -n world` with `threads` threads per process, oversubscribed, unbound (as
/// `torchrun` leaves its processes).
fn mpirun(world: usize, threads: usize) -> Command {
    let mut command = Command::new("mpirun");
    command.args([
        "-n",
        &world.to_string(),
        "--oversubscribe",
        "--bind-to",
        "none",
    ]);
    if is_root() {
        command.arg("--allow-run-as-root");
    }
    command.args(["-x", &format!("RAYON_NUM_THREADS={threads}")]);
    command
}

/// `python3 -m torch.distributed.run` of the twin on `world` processes.
fn torchrun(world: usize) -> Command {
    let mut command = Command::new("python3");
    command.args([
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        &world.to_string(),
    ]);
    command.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/ddp/ddp_twin.py"));
    command.env("OMP_NUM_THREADS", "1");
    command
}

/// Runs `command`; the value of `key=` in its output (rank 0's line).
fn measure(mut command: Command, key: &str) -> Result<f64, String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    text.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
        .ok_or_else(|| format!("no `{key}=` in {text:?}"))
}

/// `mpicc -O2` of `allreduce.c` into the temporary folder.
fn build_reference() -> Result<PathBuf, String> {
    let exe = std::env::temp_dir().join(format!("d2l-bench-allreduce-{}", std::process::id()));
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/ddp/allreduce.c");
    let status = Command::new("mpicc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(source)
        .status()
        .map_err(|e| format!("cannot start mpicc: {e}"))?;
    status
        .success()
        .then_some(exe)
        .ok_or_else(|| "mpicc failed".to_owned())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn has_torch() -> bool {
    Command::new("python3")
        .args(["-c", "import torch.distributed"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--worker") {
        worker::main(&args[i + 1..]);
        return Ok(());
    }
    let rounds: usize = option(&args, "--rounds", "3")
        .parse()
        .map_err(|_| "--rounds")?;
    let steps = option(&args, "--steps", "10");
    let batch = option(&args, "--batch", "256");
    let worlds: Vec<usize> = option(&args, "--worlds", "1,2,4")
        .split(',')
        .filter_map(|w| w.parse().ok())
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let torch = has_torch();
    if !torch {
        println!("PyTorch column left out: `python3 -c \"import torch.distributed\"` fails");
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let reference = build_reference()?;

    // (row, column) → one value per round.
    let mut results: BTreeMap<(String, &str), Vec<f64>> = BTreeMap::new();
    let mut push = |row: String, column: &'static str, value: f64| {
        results.entry((row, column)).or_default().push(value);
    };
    for round in 0..rounds {
        eprintln!("round {} of {rounds}", round + 1);
        for &world in &worlds {
            let threads = (cores / world).max(1);
            let row = format!("{world}");
            let mut ours = mpirun(world, threads);
            ours.arg(&exe).args(["--worker", "train", &batch, &steps]);
            let out = ours
                .output()
                .map_err(|e| format!("cannot start mpirun: {e}"))?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                return Err(format!(
                    "mpirun failed: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            for (key, column) in [("step_ms", "ours"), ("allreduce_ms", "ours-reduce")] {
                let value = text
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
                    .ok_or_else(|| format!("no `{key}=` in {text:?}"))?;
                push(row.clone(), column, value);
            }
            if torch {
                let mut twin = torchrun(world);
                twin.args(["train", "--batch", &batch, "--steps", &steps])
                    .args(["--threads", &threads.to_string()]);
                push(row, "torch", measure(twin, "step_ms")?);
            }
        }
        for floats in SIZES {
            let row = format!("allreduce {floats}");
            let n = floats.to_string();
            let mut ours = mpirun(2, 1);
            ours.arg(&exe).args(["--worker", "allreduce", &n, "20"]);
            push(row.clone(), "ours", measure(ours, "ms")?);
            let mut theirs = mpirun(2, 1);
            theirs.arg(&reference).args([&n, "20"]);
            push(row.clone(), "mpi", measure(theirs, "ms")?);
            if torch {
                let mut twin = torchrun(2);
                twin.args(["allreduce", "--floats", &n, "--steps", "20"]);
                push(row, "torch", measure(twin, "ms")?);
            }
        }
    }
    let _ = std::fs::remove_file(&reference);
    let get = |row: &str, column: &str| {
        results
            .get(&(row.to_owned(), column))
            .map(|v| median(v.clone()))
            .unwrap_or(f64::NAN)
    };

    println!(
        "\nLeNet, global batch {batch}, SGD step (median ms over {rounds} rounds of {steps} steps; {cores} cores)\n"
    );
    println!(
        "| processes | threads each | d2l (MpiComm, flex) | of which all-reduce | PyTorch DDP (gloo) | d2l / PyTorch | d2l speed-up vs 1 | PyTorch speed-up vs 1 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (ours1, torch1) = (get("1", "ours"), get("1", "torch"));
    for &world in &worlds {
        let row = world.to_string();
        let (ours, theirs) = (get(&row, "ours"), get(&row, "torch"));
        println!(
            "| {world} | {} | {ours:.1} ms | {:.2} ms | {theirs:.1} ms | {:.2}× | {:.2}× | {:.2}× |",
            (cores / world).max(1),
            get(&row, "ours-reduce"),
            ours / theirs,
            ours1 / ours,
            torch1 / theirs
        );
    }
    println!(
        "\nAll-reduce on 2 processes, one thread each (median ms over {rounds} rounds of 20 calls)\n"
    );
    println!(
        "| f32 values | MB | d2l `MpiComm::all_reduce_mean` | `MPI_Allreduce` (C) | gloo `all_reduce` | d2l / MPI | d2l GB/s | MPI GB/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for floats in SIZES {
        let row = format!("allreduce {floats}");
        let (ours, mpi, gloo) = (get(&row, "ours"), get(&row, "mpi"), get(&row, "torch"));
        let mb = floats as f64 * 4.0 / 1e6;
        println!(
            "| {floats} | {mb:.2} | {ours:.3} | {mpi:.3} | {gloo:.3} | {:.2}× | {:.2} | {:.2} |",
            ours / mpi,
            mb / ours,
            mb / mpi
        );
    }
    Ok(())
}
