//! `cargo xtask book --check`: every page of the built book, as a reader's browser shows it.
//!
//! Each chapter page is opened in headless Chromium (Debian's `chromium`) with `?d2l-check`,
//! which makes the book's `cells.js` check the page from inside: no unresolved include, no
//! empty output block, every image loaded, every cell's tabs switch and the choice is kept.
//! Chromium's console log is read for JavaScript errors, and every relative link (with its
//! `#fragment`) is resolved against the built files. A screenshot of each page goes to
//! `target/book-check/` (not committed).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser, by the names Debian and others install it under.
fn chromium() -> Result<&'static str, String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or_else(|| "no Chromium here: install it with `apt-get install -y chromium`".into())
}

/// The pages the summary lists, as built HTML files.
fn pages(book: &Path, root: &Path) -> Result<Vec<PathBuf>, String> {
    let summary = std::fs::read_to_string(root.join("docs/book/src/SUMMARY.md"))
        .map_err(|e| format!("SUMMARY.md: {e}"))?;
    let pages: Vec<PathBuf> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|md| book.join(md.replace(".md", ".html")))
        .collect();
    if pages.is_empty() {
        return Err("SUMMARY.md lists no page".into());
    }
    Ok(pages)
}

/// The `id`s an HTML file defines (link targets of `#fragment`s).
fn ids(html: &str) -> Vec<&str> {
    html.split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

/// Relative links (`href`, `src`) that do not resolve to a built file and, with a fragment, an
/// element of that file.
fn broken_links(page: &Path, html: &str) -> Vec<String> {
    let mut broken = Vec::new();
    let dir = page.parent().unwrap_or(page);
    for attr in [" href=\"", " src=\""] {
        for rest in html.split(attr).skip(1) {
            let link = rest.split('"').next().unwrap_or_default();
            if link.is_empty()
                || link.contains("://")
                || link.starts_with("mailto:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let file = file.split('?').next().unwrap_or_default();
            let (target, text) = if file.is_empty() {
                (page.to_path_buf(), Some(html.to_owned()))
            } else {
                let target = dir.join(file);
                let text = std::fs::read_to_string(&target).ok();
                (target, text)
            };
            if !target.exists() {
                broken.push(format!("{link} (no file)"));
            } else if !fragment.is_empty()
                && text.as_deref().is_some_and(|t| !ids(t).contains(&fragment))
            {
                broken.push(format!("{link} (no element #{fragment})"));
            }
        }
    }
    broken
}

/// Chromium's verdict on one page: the `data-d2l-check` the page wrote, and JS errors.
fn browse(browser: &str, page: &Path, shot: &Path) -> Result<String, String> {
    let url = format!("file://{}?d2l-check", page.display());
    let profile = std::env::temp_dir().join(format!("d2l-book-check-{}", std::process::id()));
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=4000",
    ];
    let output = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .map_err(|e| format!("cannot run {browser}: {e}"))?;
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    match dom.split("data-d2l-check=\"").nth(1) {
        Some(rest) => {
            let verdict = rest.split('"').next().unwrap_or_default();
            if !verdict.starts_with("ok") {
                problems.push(verdict.to_owned());
            }
        }
        None => problems.push("the page's check did not run (cells.js not loaded?)".into()),
    }
    for line in log.lines() {
        if line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error")) {
            problems.push(format!("JavaScript: {}", line.trim()));
        }
    }
    let shot_status = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--window-size=1280,2400"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run {browser}: {e}"))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !shot_status.status.success() || !shot.is_file() {
        problems.push("no screenshot".into());
    }
    if problems.is_empty() {
        Ok(dom
            .split("data-d2l-check=\"ok ")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_owned())
    } else {
        Err(problems.join("\n    "))
    }
}

pub(super) fn check_pages(root: &Path) -> Result<(), String> {
    let browser = chromium()?;
    let book = root.join("target/book");
    let shots = root.join("target/book-check");
    std::fs::create_dir_all(&shots).map_err(|e| format!("{}: {e}", shots.display()))?;
    let mut failed = Vec::new();
    for page in pages(&book, root)? {
        let name = page
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let html = std::fs::read_to_string(&page)
            .map_err(|e| format!("{}: {e} (is the page in SUMMARY.md built?)", page.display()))?;
        let mut problems: Vec<String> = broken_links(&page, &html)
            .into_iter()
            .map(|l| format!("broken link {l}"))
            .collect();
        let shot = shots.join(format!("{name}.png"));
        match browse(browser, &page, &shot) {
            Ok(cells) => println!("  {name:<20} ok ({cells}), screenshot {}", shot.display()),
            Err(err) => problems.push(err),
        }
        if !problems.is_empty() {
            println!("  {name:<20} FAILED\n    {}", problems.join("\n    "));
            failed.push(name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("book check failed on: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_to_files_and_fragments() {
        let dir = std::env::temp_dir().join(format!("d2l-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let page = dir.join("a.html");
        std::fs::write(dir.join("b.html"), "<h2 id=\"x\">").expect("write");
        let html = r##"<a href="b.html#x"></a><a href="b.html#y"></a><a href="c.html"></a><a href="https://d2l.ai"></a><a href="#top"></a><p id="top">"##;
        std::fs::write(&page, html).expect("write");
        assert_eq!(
            broken_links(&page, html),
            ["b.html#y (no element #y)", "c.html (no file)"]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
