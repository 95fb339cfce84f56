//! Records how this extension was compiled, for benchmarks to print and check: cargo gives a build
//! script the opt-level but not LTO, so LTO is read the way cargo resolves it (an environment override
//! `CARGO_PROFILE_<PROFILE>_LTO`, else the workspace manifest's `[profile.<profile>]`, else cargo's
//! default `false`).

use std::{env, fs, path::Path};

fn main() {
    let profile = env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    let opt_level = env::var("OPT_LEVEL").unwrap_or_else(|_| "unknown".into());
    let override_var = format!("CARGO_PROFILE_{}_LTO", profile.to_uppercase());
    let manifest = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../Cargo.toml");
    let lto = env::var(&override_var)
        .ok()
        .or_else(|| manifest_lto(&manifest, &profile))
        .unwrap_or_else(|| "false".into());
    println!("cargo:rerun-if-changed={}", manifest.display());
    println!("cargo:rerun-if-env-changed={override_var}");
    println!("cargo:rustc-env=SOR_BUILD_OPT_LEVEL={opt_level}");
    println!("cargo:rustc-env=SOR_BUILD_LTO={lto}");
}

/// `lto = ...` of `[profile.<profile>]` in the workspace manifest (quotes stripped), if set there.
fn manifest_lto(manifest: &Path, profile: &str) -> Option<String> {
    let text = fs::read_to_string(manifest).ok()?;
    let header = if profile == "debug" {
        "[profile.dev]".to_string()
    } else {
        format!("[profile.{profile}]")
    };
    let section = text.split(header.as_str()).nth(1)?;
    let section = section.split("\n[").next()?;
    section.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "lto").then(|| {
            value
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .to_string()
        })
    })
}
