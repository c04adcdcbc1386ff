//! Dotted keys (`0.block 1.2.weight`): how a name is joined ([`SEPARATOR`], [`join`]), where a
//! walk is ([`Path`]), and PyTorch's naming, orientation and scalar rules. A leaf module: the
//! walks in [`path`](crate::path) build on it and re-export it.

/// The separator of dotted paths, as in PyTorch's `state_dict` keys.
pub const SEPARATOR: char = '.';

/// `prefix` and `name` joined by [`SEPARATOR`]; an empty side is left out.
///
/// ```
/// use d2l_blocks::path::join;
///
/// assert_eq!(join("0.block 1", "2"), "0.block 1.2");
/// assert_eq!(join("", "weight"), "weight");
/// ```
pub fn join(prefix: &str, name: &str) -> String {
    match (prefix.is_empty(), name.is_empty()) {
        (true, _) => name.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}{SEPARATOR}{name}"),
    }
}

/// Whether a parameter is stored transposed relative to PyTorch: a `Linear` weight.
///
/// **The one orientation rule.** Burn stores a `Linear` weight as `[in, out]`, PyTorch as
/// `[out, in]`. Wherever a PyTorch key is used (views, state dicts, files, errors, initializer
/// fans) shapes and values are PyTorch's `[out, in]`; typed access to the Burn tensor is
/// Burn's `[in, out]`.
pub fn is_torch_transposed(name: &str, container_type: &str, rank: usize) -> bool {
    rank == 2 && name == "weight" && container_type == "Struct:Linear"
}

/// PyTorch's name for a parameter Burn names otherwise: `LayerNorm`'s and `GroupNorm`'s
/// `gamma` / `beta` are `weight` / `bias`.
///
/// **The one naming rule.** Every key this workspace builds goes through [`Path::enter`],
/// which applies it, so state dicts, files, initializers and errors all use PyTorch's names.
pub fn torch_name<'a>(name: &'a str, container_type: &str) -> &'a str {
    match (container_type, name) {
        ("Struct:LayerNorm" | "Struct:GroupNorm", "gamma") => "weight",
        ("Struct:LayerNorm" | "Struct:GroupNorm", "beta") => "bias",
        _ => name,
    }
}

/// Whether a parameter is held as a float `[1]` but is PyTorch's int64 scalar (shape `[]`):
/// batch norm's `num_batches_tracked`. Views, state dicts and files show PyTorch's dtype and
/// shape; the value is converted at that boundary.
pub fn is_torch_scalar(name: &str, container_type: &str) -> bool {
    container_type == "Struct:BatchNorm" && name == "num_batches_tracked"
}

/// Where a walk is: the modules entered, as a dotted key, with their container types.
///
/// Entering and leaving a module costs no allocation past the longest path seen.
#[derive(Debug, Default, Clone)]
pub struct Path {
    key: String,
    starts: Vec<usize>,
    containers: Vec<String>,
}

impl Path {
    /// Enters the module `name` of Burn container type `container_type` (`Struct:Linear`).
    pub fn enter(&mut self, name: &str, container_type: &str) {
        self.starts.push(self.key.len());
        if !self.key.is_empty() {
            self.key.push(SEPARATOR);
        }
        self.key.push_str(torch_name(name, container_type));
        self.containers.push(container_type.to_owned());
    }

    /// Leaves the innermost module.
    pub fn exit(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.key.truncate(start);
        }
        self.containers.pop();
    }

    /// The dotted key (`0.block 1.2.weight`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The last segment (`weight`), empty at the root.
    pub fn name(&self) -> &str {
        match self.starts.last() {
            Some(&start) if start == 0 => &self.key,
            Some(&start) => &self.key[start + SEPARATOR.len_utf8()..],
            None => "",
        }
    }

    /// The key of the enclosing module (`0.block 1.2`).
    pub fn parent(&self) -> &str {
        &self.key[..self.starts.last().copied().unwrap_or(0)]
    }

    /// Burn's container type of the innermost module (`Struct:Linear`), empty at the root.
    pub fn container_type(&self) -> &str {
        self.containers.last().map_or("", String::as_str)
    }

    /// The innermost container's type name (`Linear`).
    pub fn container(&self) -> &str {
        let ty = self.container_type();
        ty.split_once(':').map_or(ty, |(_, name)| name)
    }

    /// Whether the parameter here is PyTorch's int64 scalar ([`is_torch_scalar`]).
    pub fn is_torch_scalar(&self) -> bool {
        is_torch_scalar(self.name(), self.container_type())
    }

    /// Whether a parameter of `rank` here is stored transposed ([`is_torch_transposed`]).
    pub fn is_torch_transposed(&self, rank: usize) -> bool {
        is_torch_transposed(self.name(), self.container_type(), rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_tracks_keys_names_and_containers() {
        let mut path = Path::default();
        assert_eq!((path.key(), path.name(), path.parent()), ("", "", ""));
        path.enter("0", "Struct:Sequential");
        path.enter("block 1", "Struct:Sequential");
        path.enter("weight", "Struct:Linear");
        assert_eq!(path.key(), "0.block 1.weight");
        assert_eq!(
            (path.name(), path.parent(), path.container()),
            ("weight", "0.block 1", "Linear")
        );
        assert!(path.is_torch_transposed(2));
        assert!(!path.is_torch_transposed(1));
        path.exit();
        path.enter("bias", "Struct:Linear");
        assert_eq!(path.key(), "0.block 1.bias");
        path.exit();
        path.exit();
        path.exit();
        assert_eq!(path.key(), "");
        path.exit();
        assert_eq!(path.key(), "");
    }
}
