//! The start-up check that every rank holds the same model: rank 0's keys and shapes are
//! broadcast, and the first rank that differs tells everyone where.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::{Communicator, ParallelError};

/// `(PyTorch key, shape)` of every parameter and buffer position, in state-dict order.
pub(super) type Manifest = Vec<(String, Vec<usize>)>;

/// Fails on every rank, with the same error, if some rank's manifest differs from rank 0's.
pub(super) fn check_same<B: Backend, C: Communicator<B>>(
    comm: &C,
    mine: &Manifest,
    device: &B::Device,
) -> Result<(), ParallelError> {
    let text = encode(mine);
    let rank0 = decode(&broadcast_text(
        comm,
        (comm.rank() == 0).then_some(&text),
        device,
    )?);
    let difference = first_difference(&rank0, mine);
    // Which ranks differ: a one-hot vector, averaged.
    let world = comm.world_size();
    let mut flags = vec![0.0f32; world];
    flags[comm.rank()] = if difference.is_some() { 1.0 } else { 0.0 };
    let flags = comm.all_reduce_mean(Tensor::from_data(TensorData::new(flags, [world]), device))?;
    let flags = floats(flags.into_data());
    let Some(first) = flags.iter().position(|&f| f > 0.0) else {
        return Ok(());
    };
    let report = difference.map(|(key, expected, actual)| format!("{key}\n{expected}\n{actual}"));
    let report = broadcast_text(
        comm,
        report.as_ref().filter(|_| comm.rank() == first),
        device,
    )?;
    let mut lines = report.splitn(3, '\n').map(str::to_owned);
    let mut next = || lines.next().unwrap_or_default();
    Err(ParallelError::ModelMismatch {
        rank: first,
        key: next(),
        expected: next(),
        actual: next(),
    })
}

/// The first key where `theirs` (rank 0) and `mine` differ: `(key, rank 0's, mine)`.
fn first_difference(theirs: &Manifest, mine: &Manifest) -> Option<(String, String, String)> {
    let describe = |entry: Option<&(String, Vec<usize>)>| match entry {
        Some((_, shape)) => format!("shape {shape:?}"),
        None => "nothing".to_owned(),
    };
    let n = theirs.len().max(mine.len());
    (0..n).find_map(|i| {
        let (a, b) = (theirs.get(i), mine.get(i));
        if a == b {
            return None;
        }
        match (a, b) {
            (Some(a), Some(b)) if a.0 != b.0 => Some((
                a.0.clone(),
                describe(Some(a)),
                format!("`{}` ({}) in its place", b.0, describe(Some(b))),
            )),
            _ => {
                let key = a.or(b).map(|e| e.0.clone()).unwrap_or_default();
                Some((key, describe(a), describe(b)))
            }
        }
    })
}

/// `root`'s text (rank 0 passes `Some` as root; the others `None`), on every rank: its length
/// first, then its bytes.
fn broadcast_text<B: Backend, C: Communicator<B>>(
    comm: &C,
    text: Option<&String>,
    device: &B::Device,
) -> Result<String, ParallelError> {
    // The root is whoever holds the text; every rank learns who from an averaged one-hot.
    let world = comm.world_size();
    let mut holder = vec![0.0f32; world];
    if text.is_some() {
        holder[comm.rank()] = 1.0;
    }
    let holder =
        comm.all_reduce_mean(Tensor::from_data(TensorData::new(holder, [world]), device))?;
    let root = floats(holder.into_data())
        .iter()
        .position(|&f| f > 0.0)
        .unwrap_or(0);
    let bytes: Vec<f32> = text
        .map(|t| t.bytes().map(f32::from).collect())
        .unwrap_or_default();
    let len = Tensor::from_data(TensorData::new(vec![bytes.len() as f32], [1]), device);
    let len = floats(comm.broadcast(len, root)?.into_data())
        .first()
        .map_or(0, |&l| l as usize);
    let mut payload = bytes;
    payload.resize(len, 0.0);
    if len == 0 {
        return Ok(String::new());
    }
    let payload = comm.broadcast(
        Tensor::from_data(TensorData::new(payload, [len]), device),
        root,
    )?;
    let bytes: Vec<u8> = floats(payload.into_data())
        .iter()
        .map(|&b| b as u8)
        .collect();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn floats(data: TensorData) -> Vec<f32> {
    data.convert::<f32>().to_vec::<f32>().unwrap_or_default()
}

fn encode(manifest: &Manifest) -> String {
    manifest
        .iter()
        .map(|(key, shape)| format!("{key}\t{shape:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode(text: &str) -> Manifest {
    text.lines()
        .filter_map(|line| {
            let (key, shape) = line.split_once('\t')?;
            let shape = shape.trim_matches(['[', ']']);
            let shape = shape
                .split(", ")
                .filter(|s| !s.is_empty())
                .map(|d| d.parse().ok())
                .collect::<Option<Vec<usize>>>()?;
            Some((key.to_owned(), shape))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_name_the_first_difference() {
        let a: Manifest = vec![("0.weight".into(), vec![8, 4]), ("0.bias".into(), vec![8])];
        assert_eq!(decode(&encode(&a)), a);
        assert_eq!(first_difference(&a, &a), None);
        let mut b = a.clone();
        b[1].1 = vec![9];
        assert_eq!(
            first_difference(&a, &b),
            Some(("0.bias".into(), "shape [8]".into(), "shape [9]".into()))
        );
        assert_eq!(
            first_difference(&a, &a[..1].to_vec()),
            Some(("0.bias".into(), "shape [8]".into(), "nothing".into()))
        );
        let mut c = a.clone();
        c[0].0 = "1.weight".into();
        assert_eq!(
            first_difference(&a, &c).map(|d| d.0),
            Some("0.weight".to_owned())
        );
    }
}
