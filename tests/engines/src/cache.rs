//! The engines' artifacts, resolved from Maven Central by `mvn` into a cache outside the clone:
//! `$TCG_ENGINES_DIR`, else `~/.cache/tcgtracker/engines`. Each engine lands in a folder named
//! by its version, moved into place only when complete, so a half-done download is never used
//! and two test processes resolving at once do no harm.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::{
    error::{EngineError, Result},
    versions,
};

/// Where the engines are cached.
pub fn engines_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TCG_ENGINES_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/tcgtracker/engines")
}

/// Kafka's class path folder (every jar the broker needs), resolved on first use.
pub fn kafka_lib() -> Result<PathBuf> {
    let dir = engines_dir().join(format!("kafka-{}", versions::KAFKA));
    let lib = dir.join("lib");
    if !lib
        .join(format!("kafka_2.13-{}.jar", versions::KAFKA))
        .is_file()
    {
        let deps = [
            ("org.apache.kafka", "kafka_2.13", versions::KAFKA),
            ("org.apache.kafka", "kafka-storage", versions::KAFKA),
            (
                "org.apache.logging.log4j",
                "log4j-slf4j-impl",
                versions::LOG4J,
            ),
        ];
        resolve(
            &format!("Apache Kafka {}", versions::KAFKA),
            &deps,
            true,
            &lib,
        )?;
    }
    Ok(lib)
}

/// The QuestDB server jar, resolved on first use.
pub fn questdb_jar() -> Result<PathBuf> {
    let lib = engines_dir()
        .join(format!("questdb-{}", versions::QUESTDB))
        .join("lib");
    let jar = lib.join(format!("questdb-{}.jar", versions::QUESTDB));
    if !jar.is_file() {
        let deps = [("org.questdb", "questdb", versions::QUESTDB)];
        resolve(
            &format!("QuestDB {}", versions::QUESTDB),
            &deps,
            false,
            &lib,
        )?;
    }
    Ok(jar)
}

/// The `java` to run the engines with: `$JAVA_HOME/bin/java`, else `java` on the PATH; it
/// must be Java 17 or later (Kafka 4 and QuestDB 9 both need 17).
pub fn java() -> Result<PathBuf> {
    let java = match std::env::var_os("JAVA_HOME") {
        Some(home) => PathBuf::from(home).join("bin/java"),
        None => find_on_path("java").ok_or_else(|| EngineError::Missing {
            what: "java".into(),
            hint: "install a JDK 17 or later (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME".into(),
        })?,
    };
    let out = Command::new(&java)
        .arg("-version")
        .output()
        .map_err(EngineError::io(format!(
            "running {} -version",
            java.display()
        )))?;
    let text = String::from_utf8_lossy(&out.stderr);
    match java_major(&text) {
        Some(major) if major >= 17 => Ok(java),
        _ => Err(EngineError::Missing {
            what: "Java 17 or later".into(),
            hint: format!(
                "{} says {:?}; set JAVA_HOME to a JDK 17+",
                java.display(),
                text.lines().next().unwrap_or("")
            ),
        }),
    }
}

/// The major version in `java -version`'s first line (`openjdk version "17.0.15" …`).
fn java_major(text: &str) -> Option<u32> {
    let quoted = text.split('"').nth(1)?;
    let mut parts = quoted.split('.');
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// A program on the PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Resolves `deps` (with their dependencies when `transitive`) into `dest`.
fn resolve(
    artifact: &str,
    deps: &[(&str, &str, &str)],
    transitive: bool,
    dest: &Path,
) -> Result<()> {
    let mvn = find_on_path("mvn").ok_or_else(|| EngineError::Missing {
        what: "mvn".into(),
        hint: "install Maven 3 (Debian: apt-get install maven); it resolves the engines from Maven Central".into(),
    })?;
    let parent = dest.parent().unwrap_or(dest);
    std::fs::create_dir_all(parent)
        .map_err(EngineError::io(format!("creating {}", parent.display())))?;
    let work = tempfile::Builder::new()
        .prefix(".resolve-")
        .tempdir_in(parent)
        .map_err(EngineError::io(format!(
            "creating a folder in {}",
            parent.display()
        )))?;
    let pom = work.path().join("pom.xml");
    std::fs::write(&pom, pom_xml(deps))
        .map_err(EngineError::io(format!("writing {}", pom.display())))?;
    let staged = work.path().join("lib");
    eprintln!(
        "tcg-engines: resolving {artifact} from Maven Central into {} …",
        dest.display()
    );
    let out = Command::new(&mvn)
        .args(["-B", "-q", "-f"])
        .arg(&pom)
        .arg("dependency:copy-dependencies")
        .arg(format!("-DoutputDirectory={}", staged.display()))
        .arg(format!("-DexcludeTransitive={}", !transitive))
        .output()
        .map_err(EngineError::io(format!("running {}", mvn.display())))?;
    if !out.status.success() {
        return Err(EngineError::Resolve {
            artifact: artifact.into(),
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    // Another process may have finished first: then its copy stays and ours goes.
    match std::fs::rename(&staged, dest) {
        Ok(()) => {}
        Err(_) if dest.is_dir() => {}
        Err(e) => {
            return Err(EngineError::io(format!("moving into {}", dest.display()))(
                e,
            ));
        }
    }
    eprintln!("tcg-engines: {artifact} ready");
    Ok(())
}

fn pom_xml(deps: &[(&str, &str, &str)]) -> String {
    let deps: String = deps
        .iter()
        .map(|(g, a, v)| {
            format!(
                "    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>\n"
            )
        })
        .collect();
    format!(
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  \
         <groupId>tcgtracker</groupId><artifactId>engines</artifactId><version>1</version><packaging>pom</packaging>\n  \
         <dependencies>\n{deps}  </dependencies>\n</project>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_from_both_styles() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15"),
            Some(17)
        );
        assert_eq!(java_major("openjdk version \"25\" 2025-09-16"), Some(25));
        assert_eq!(java_major("java version \"1.8.0_402\""), Some(8));
        assert_eq!(java_major("nothing"), None);
    }

    #[test]
    fn the_pom_names_every_dependency() {
        let pom = pom_xml(&[("g", "a", "1.0"), ("h", "b", "2.0")]);
        assert!(
            pom.contains("<groupId>g</groupId><artifactId>a</artifactId><version>1.0</version>")
        );
        assert!(
            pom.contains("<groupId>h</groupId><artifactId>b</artifactId><version>2.0</version>")
        );
    }
}
