//! The book's figures, drawn from the captured outputs of real runs (so a figure never shows a
//! network or a number the examples did not print):
//!
//! - `block_diagram.svg` (§5.1): the nesting of `chimera`, from its printed repr;
//! - `parameter_tree.svg` (§5.2): `rgnet`'s modules and parameters with their shapes, from its
//!   printed repr (a `Linear(in, out)` holds `weight [out, in]` and `bias [out]`);
//! - `lenet_loss.svg` (§7.6): LeNet's training loss per step, with plotters.
//!
//! §5.6's timing plot is `cargo xtask bench devices`'s `devices_matmul.svg`, copied in by hand
//! after a benchmark run (a benchmark is too slow to be a book build step).

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

/// One module of a printed repr: `(name): Kind(args)`.
#[derive(Debug, Default, PartialEq)]
struct Node {
    name: String,
    kind: String,
    args: String,
    children: Vec<Node>,
}

/// Parses PyTorch's `print(net)` format (which the examples print) into a tree.
fn parse_repr(text: &str) -> Option<Node> {
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    for line in text.lines() {
        let line = line.trim();
        if line == ")" {
            let done = stack.pop()?;
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => root = Some(done),
            }
            continue;
        }
        let (name, rest) = match line.strip_prefix('(') {
            Some(rest) => {
                let (name, rest) = rest.split_once("): ")?;
                (name.to_owned(), rest)
            }
            // The root: a bare `Kind(` line; other printed lines are not part of the repr.
            None if stack.is_empty() && root.is_none() && is_opening(line) => (String::new(), line),
            None => continue,
        };
        let (kind, args) = rest.split_once('(')?;
        let node = Node {
            name,
            kind: kind.to_owned(),
            args: args.trim_end_matches(')').to_owned(),
            children: Vec::new(),
        };
        if args.is_empty() {
            stack.push(node); // `Kind(` opens a container
        } else {
            stack.last_mut()?.children.push(node);
        }
    }
    root
}

/// `Sequential(`: a container's first line.
fn is_opening(line: &str) -> bool {
    line.strip_suffix('(')
        .is_some_and(|kind| !kind.is_empty() && kind.chars().all(char::is_alphanumeric))
}

/// `in_features=20, out_features=64, …` → `(20, 64)`.
fn linear_widths(args: &str) -> Option<(usize, usize)> {
    let get = |key: &str| {
        args.split(", ")
            .find_map(|kv| kv.strip_prefix(key)?.parse::<usize>().ok())
    };
    Some((get("in_features=")?, get("out_features=")?))
}

fn label(node: &Node) -> String {
    let kind = match (node.kind.as_str(), linear_widths(&node.args)) {
        ("Linear", Some((i, o))) => format!("Linear {i} → {o}"),
        (kind, _) => kind.to_owned(),
    };
    if node.name.is_empty() {
        kind
    } else {
        format!("({}) {kind}", node.name)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const ROW: i32 = 26;
const GAP: i32 = 8;

fn box_height(node: &Node) -> i32 {
    if node.children.is_empty() {
        ROW
    } else {
        ROW + node
            .children
            .iter()
            .map(|c| box_height(c) + GAP)
            .sum::<i32>()
            + 4
    }
}

/// Nested boxes: a container holds its children top to bottom, in the order data flows.
fn draw_box(svg: &mut String, node: &Node, x: i32, y: i32, width: i32, depth: usize) {
    const FILLS: [&str; 4] = ["#eef3fb", "#e3f1e6", "#fbf1e3", "#f3e8f7"];
    let height = box_height(node);
    let fill = if node.children.is_empty() {
        "#ffffff"
    } else {
        FILLS[depth % FILLS.len()]
    };
    let _ = write!(
        svg,
        r##"<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="5" fill="{fill}" stroke="#567"/><text x="{}" y="{}" font-size="13">{}</text>"##,
        x + 8,
        y + 17,
        escape(&label(node))
    );
    let mut cy = y + ROW;
    for (i, child) in node.children.iter().enumerate() {
        if i > 0 {
            // The arrow of the data flow between siblings.
            let ax = x + width / 2;
            let _ = write!(
                svg,
                r##"<path d="M{ax} {} l0 {GAP} m-4 -5 l4 5 l4 -5" stroke="#567" fill="none"/>"##,
                cy - GAP
            );
        }
        draw_box(svg, child, x + 14, cy, width - 28, depth + 1);
        cy += box_height(child) + GAP;
    }
}

fn block_diagram(root: &Node, title: &str) -> String {
    let width = 560;
    let height = box_height(root) + 90;
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="20" font-size="14" font-weight="bold">{}</text><text x="{}" y="42" font-size="12" text-anchor="middle">X [2, 20] ↓</text>"##,
        escape(title),
        width / 2
    );
    draw_box(&mut svg, root, 10, 50, width - 20, 0);
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" font-size="12" text-anchor="middle">↓ output [1]</text></svg>"##,
        width / 2,
        height - 20
    );
    svg
}

/// One row of the parameter tree: depth, text, and whether it is a parameter. A parameter's
/// row ends with its dotted key (`prefix` is the path of the module holding it).
fn tree_rows(node: &Node, prefix: &str, depth: usize, rows: &mut Vec<(usize, String, bool)>) {
    rows.push((depth, label(node), false));
    if let ("Linear", Some((i, o))) = (node.kind.as_str(), linear_widths(&node.args)) {
        rows.push((
            depth + 1,
            format!("weight [{o}, {i}]   {prefix}weight"),
            true,
        ));
        rows.push((depth + 1, format!("bias [{o}]   {prefix}bias"), true));
    }
    for child in &node.children {
        tree_rows(child, &format!("{prefix}{}.", child.name), depth + 1, rows);
    }
}

fn parameter_tree(root: &Node, title: &str) -> String {
    let mut rows = Vec::new();
    tree_rows(root, "", 0, &mut rows);
    let row = 19;
    let height = 50 + row * i32::try_from(rows.len()).unwrap_or(i32::MAX / 64);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="520" height="{height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="20" font-size="14" font-weight="bold">{}</text>"##,
        escape(title)
    );
    for (i, (depth, text, param)) in rows.iter().enumerate() {
        let y = 45 + row * i32::try_from(i).unwrap_or(0);
        let x = 14 + 22 * i32::try_from(*depth).unwrap_or(0);
        if *depth > 0 {
            let _ = write!(
                svg,
                r##"<path d="M{} {} l0 {} l12 0" stroke="#99a" fill="none"/>"##,
                x - 16,
                y - row + 4,
                row - 4
            );
        }
        let (fill, weight) = if *param {
            ("#b03a2e", "bold")
        } else {
            ("#234", "normal")
        };
        let _ = write!(
            svg,
            r##"<text x="{x}" y="{}" font-size="12" fill="{fill}" font-weight="{weight}">{}</text>"##,
            y + 4,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `loss over 5 steps: [2.5, 2.39, …]` → the numbers.
fn losses(text: &str) -> Option<Vec<f64>> {
    let line = text.lines().find(|l| l.starts_with("loss over"))?;
    let list = line.split_once('[')?.1.trim_end_matches(']');
    list.split(", ").map(|v| v.trim().parse().ok()).collect()
}

fn loss_plot(values: &[f64], path: &Path) -> Result<(), String> {
    let root = SVGBackend::new(path, (560, 340)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let pad = (hi - lo).max(1e-3) * 0.1;
    let steps = values.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "LeNet (§7.6): training loss per SGD step, flex backend",
            ("sans-serif", 15),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1..steps, (lo - pad)..(hi + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("cross-entropy loss")
        .x_labels(steps)
        .draw()
        .map_err(|e| e.to_string())?;
    let points: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i + 1, v))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), &BLUE))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(points.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run `cargo xtask book`)", path.display()))
}

fn write(path: &Path, svg: &str) -> Result<(), String> {
    std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("drew {}", path.display());
    Ok(())
}

pub(super) fn draw(root: &Path) -> Result<(), String> {
    let output = root.join("docs/book/src/output");
    let figures = root.join("docs/book/src/figures");
    std::fs::create_dir_all(&figures).map_err(|e| format!("{}: {e}", figures.display()))?;

    let chimera = read(&output.join("sec5_1_layers_and_blocks/chimera.txt"))?;
    let tree = parse_repr(&chimera).ok_or("chimera's output holds no repr")?;
    write(
        &figures.join("block_diagram.svg"),
        &block_diagram(
            &tree,
            "chimera (§5.1): blocks inside blocks; data flows downwards",
        ),
    )?;

    let rgnet = read(&output.join("sec5_2_parameters/nested.txt"))?;
    let tree = parse_repr(&rgnet).ok_or("rgnet's output holds no repr")?;
    write(
        &figures.join("parameter_tree.svg"),
        &parameter_tree(
            &tree,
            "rgnet (§5.2): modules, and the parameters (red) they hold, with their keys",
        ),
    )?;

    let lenet = read(&output.join("sec7_6_and_8_6_cnns/lenet_train.txt"))?;
    let values = losses(&lenet).ok_or("LeNet's output holds no `loss over` line")?;
    let path = figures.join("lenet_loss.svg");
    loss_plot(&values, &path)?;
    println!("drew {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repr_parses_into_its_tree() {
        let text = "rgnet(X) = tensor([[1.0]])\nSequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): Box(\n    (a): ReLU()\n  )\n)\n";
        let root = parse_repr(text).expect("parses");
        assert_eq!(root.kind, "Sequential");
        assert_eq!(root.children.len(), 2);
        assert_eq!(label(&root.children[0]), "(0) Linear 2 → 3");
        assert_eq!(root.children[1].children[0].kind, "ReLU");
        let mut rows = Vec::new();
        tree_rows(&root, "", 0, &mut rows);
        assert_eq!(rows[2], (2, "weight [3, 2]   0.weight".to_owned(), true));
        assert_eq!(rows.len(), 6);
    }

    #[test]
    fn losses_are_read_from_the_printed_line() {
        assert_eq!(
            losses("x\nloss over 2 steps: [2.5, 2.25]\n"),
            Some(vec![2.5, 2.25])
        );
    }
}
