//! `Checkpointer`: ordered background writes, errors at the next call, a bounded queue, and the
//! same behaviour from sync code and from inside tokio runtimes (where it must never panic).

use burn::backend::NdArray;
use burn::nn::{Initializer, LinearConfig};
use d2l_blocks::Sequential;
use d2l_io::{Checkpointer, IoError, load_tensors};
use d2l_params::{Init, Parameters, init_params};

/// `Linear(n, n)`, all zeros.
fn net(n: usize) -> Sequential<NdArray> {
    Sequential::new().add(
        LinearConfig::new(n, n)
            .with_initializer(Initializer::Zeros)
            .init(&Default::default()),
    )
}

fn set(net: &mut Sequential<NdArray>, value: f64) {
    init_params(net, |_| Some(Init::Constant(value))).expect("init");
}

#[track_caller]
fn weights_are(path: &std::path::Path, value: f32) {
    let file = load_tensors(path).expect("load");
    assert!(
        file["0.weight"].iter::<f32>().all(|v| v == value),
        "expected every weight {value}"
    );
}

#[test]
fn background_checkpoints_keep_order_snapshot_early_and_report_errors() {
    let dir = crate::scratch("background");
    let path = dir.join("ckpt.safetensors");
    let device = Default::default();
    let mut net = Sequential::<NdArray>::new().add(
        LinearConfig::new(256, 256)
            .with_initializer(Initializer::Zeros)
            .init(&device),
    );
    let mut checkpoints = Checkpointer::new().expect("writer");
    for k in 1..=5 {
        init_params(&mut net, |_| Some(d2l_params::Init::Constant(f64::from(k)))).expect("init");
        checkpoints.save(&path, &net).expect("queued");
    }
    // Changed after the last save returned: not in the checkpoint (it was copied at save time).
    init_params(&mut net, |_| Some(d2l_params::Init::Constant(99.0))).expect("init");
    checkpoints.flush().expect("all written");
    let file = load_tensors(&path).expect("load");
    assert!(
        file["0.weight"].iter::<f32>().all(|v| v == 5.0),
        "the last save wins, as saved"
    );
    assert_eq!(
        net.param("0.bias")
            .expect("bias")
            .data()
            .iter::<f32>()
            .next(),
        Some(99.0)
    );
    // A write that fails (no such directory) reaches the caller.
    checkpoints
        .save(dir.join("missing/dir/ckpt.safetensors"), &net)
        .expect("queued");
    let err = checkpoints
        .flush()
        .expect_err("the directory does not exist");
    assert!(
        err.to_string().contains("missing/dir/ckpt.safetensors"),
        "{err}"
    );
    assert!(checkpoints.flush().is_ok(), "an error is reported once");
}

#[test]
fn the_queue_is_bounded_by_its_capacity() {
    let dir = crate::scratch("bounded");
    let mut net = net(512); // 1 MB a checkpoint
    for capacity in [1, 3] {
        let mut checkpoints = Checkpointer::with_capacity(capacity).expect("writer");
        for k in 0..12 {
            set(&mut net, f64::from(k));
            checkpoints
                .save(dir.join(format!("c{}.safetensors", k % 4)), &net)
                .expect("queued");
            let held = checkpoints.queued();
            assert!(
                held <= capacity + 1,
                "capacity {capacity}: {held} snapshots held"
            );
        }
        checkpoints.flush().expect("written");
        assert_eq!(checkpoints.queued(), 0);
        weights_are(&dir.join("c3.safetensors"), 11.0);
    }
}

/// The sync API called from inside a runtime (where `block_on` would panic), then the async
/// one; a failure is reported by the next call, once.
async fn sync_and_async_calls(dir: std::path::PathBuf) {
    let path = dir.join("ckpt.safetensors");
    let mut net = net(64);
    let mut checkpoints = Checkpointer::new().expect("writer");
    set(&mut net, 1.0);
    checkpoints
        .save(&path, &net)
        .expect("sync save inside a runtime");
    checkpoints.flush().expect("sync flush inside a runtime");
    weights_are(&path, 1.0);
    for k in 2..=4 {
        set(&mut net, f64::from(k));
        checkpoints
            .save_async(&path, &net)
            .await
            .expect("async save");
    }
    checkpoints.flush_async().await.expect("async flush");
    weights_are(&path, 4.0);
    // A write that fails (its directory does not exist) surfaces at the next call.
    let bad = dir.join("missing/ckpt.safetensors");
    checkpoints.save_async(&bad, &net).await.expect("queued");
    let err = checkpoints
        .flush_async()
        .await
        .expect_err("no such directory");
    assert!(
        matches!(&err, IoError::Io { path, .. } if *path == bad),
        "{err}"
    );
    assert!(checkpoints.flush_async().await.is_ok(), "reported once");
    checkpoints.save_async(&bad, &net).await.expect("queued");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let reported = match checkpoints.save_async(&path, &net).await {
        Err(_) => true,
        Ok(()) => checkpoints.flush_async().await.is_err(),
    };
    assert!(reported, "the failure reaches the next call");
    checkpoints.flush().expect("all written since");
    // Dropped inside the runtime: waits for its writes, no panic.
    set(&mut net, 9.0);
    checkpoints.save(&path, &net).expect("queued");
    drop(checkpoints);
    weights_are(&path, 9.0);
}

#[tokio::test]
async fn works_inside_a_current_thread_runtime() {
    sync_and_async_calls(crate::scratch("tokio-current")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime_and_across_tasks() {
    let dir = crate::scratch("tokio-multi");
    // The future of a save is `Send`: it runs on a spawned task.
    tokio::spawn(sync_and_async_calls(dir))
        .await
        .expect("the task ran");
}
