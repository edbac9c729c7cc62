//! A deterministic zip writer for addon assets (a Lambda function's code folder and the like):
//! entries stored uncompressed, sorted by name, every timestamp 1980-01-01 00:00 (the zip
//! epoch), Unix permissions kept in the external attributes. The same files always give the
//! same bytes, so a content-addressed key of the archive changes only when a file does, and a
//! deploy with nothing changed stays a no-op. No Zip64: an archive over 4 GiB or 65,535 entries
//! is refused (Lambda takes 250 MB unzipped at most).

use crate::error::{Error, Result};

/// One file of an archive: its path inside the archive (`/`-separated), its Unix mode (the
/// permission bits) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) mode: u32,
    pub(crate) data: Vec<u8>,
}

/// MS-DOS date of 1980-01-01 (day 1, month 1, year 0 of the DOS epoch); the time is 00:00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// Version 2.0: what a stored entry needs; "made by" Unix (3) so readers use the mode bits.
const VERSION_NEEDED: u16 = 20;
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
/// General purpose flag bit 11: the names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// A regular file in the Unix mode kept in the high half of the external attributes.
const S_IFREG: u32 = 0o100000;

/// The archive of `entries`, sorted by name. Fails on a duplicate name or on sizes that need
/// Zip64.
pub(crate) fn write(mut entries: Vec<Entry>) -> Result<Vec<u8>> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(Error::failure(format!(
            "`{}` is in the archive twice",
            w[0].name
        )));
    }
    if entries.len() > usize::from(u16::MAX) {
        return Err(Error::failure(format!(
            "{} files are more than a zip without Zip64 holds (65,535)",
            entries.len()
        )));
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in &entries {
        let offset = fits_u32(out.len())?;
        let size = fits_u32(entry.data.len())?;
        let name_len = u16::try_from(entry.name.len())
            .map_err(|_| Error::failure(format!("the file name `{}` is too long", entry.name)))?;
        let crc = crc32(&entry.data);
        // Local file header.
        put32(&mut out, 0x0403_4b50);
        put16(&mut out, VERSION_NEEDED);
        put16(&mut out, UTF8_NAMES);
        put16(&mut out, 0); // stored
        put16(&mut out, DOS_TIME);
        put16(&mut out, DOS_DATE);
        put32(&mut out, crc);
        put32(&mut out, size);
        put32(&mut out, size);
        put16(&mut out, name_len);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&entry.data);
        // Central directory header.
        put32(&mut central, 0x0201_4b50);
        put16(&mut central, VERSION_MADE_BY);
        put16(&mut central, VERSION_NEEDED);
        put16(&mut central, UTF8_NAMES);
        put16(&mut central, 0);
        put16(&mut central, DOS_TIME);
        put16(&mut central, DOS_DATE);
        put32(&mut central, crc);
        put32(&mut central, size);
        put32(&mut central, size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra field length
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, (S_IFREG | (entry.mode & 0o7777)) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_offset = fits_u32(out.len())?;
    let central_size = fits_u32(central.len())?;
    out.extend_from_slice(&central);
    let count = entries.len() as u16; // checked above
    // End of central directory record.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, central_size);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    fits_u32(out.len())?;
    Ok(out)
}

fn fits_u32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::failure("the archive is over 4 GiB, more than a zip without Zip64 holds")
    })
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip records it.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, mode: u32, data: &[u8]) -> Entry {
        Entry {
            name: name.to_string(),
            mode,
            data: data.to_vec(),
        }
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value of CRC-32/ISO-HDLC for "123456789" (from the CRC catalogue).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// Source: determinism is tug's own requirement (content-addressed keys).
    #[test]
    fn the_same_files_in_any_order_give_the_same_bytes() {
        let a = write(vec![
            entry("b.py", 0o644, b"b"),
            entry("a/x.sh", 0o755, b"x"),
        ])
        .unwrap();
        let b = write(vec![
            entry("a/x.sh", 0o755, b"x"),
            entry("b.py", 0o644, b"b"),
        ])
        .unwrap();
        assert_eq!(a, b);
        let c = write(vec![
            entry("a/x.sh", 0o755, b"y"),
            entry("b.py", 0o644, b"b"),
        ])
        .unwrap();
        assert_ne!(a, c);
    }

    /// Source: APPNOTE.TXT (a name is one entry); readers differ on duplicates.
    #[test]
    fn duplicate_names_are_refused() {
        let err = write(vec![entry("a", 0o644, b""), entry("a", 0o644, b"")]).unwrap_err();
        assert!(
            err.message().contains("`a` is in the archive twice"),
            "{err}"
        );
    }

    /// Source: APPNOTE.TXT, section 4.3.16 (the 22-byte end of central directory record).
    #[test]
    fn an_empty_archive_is_just_the_end_record() {
        let zip = write(Vec::new()).unwrap();
        assert_eq!(zip.len(), 22);
        assert_eq!(&zip[..4], &[0x50, 0x4b, 0x05, 0x06]);
    }

    /// Independent check: Python's `zipfile` (the project's .venv interpreter) reads the archive
    /// back, verifies every CRC (`testzip`), and reports names, contents, modes and dates.
    #[test]
    fn python_zipfile_reads_the_archive() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join(".venv/bin/python");
        let python = if venv.exists() {
            venv
        } else {
            std::path::PathBuf::from("python3")
        };
        let zip = write(vec![
            entry("index.py", 0o644, b"def handler(e, c):\n    return 1\n"),
            entry("bin/run.sh", 0o755, b"#!/bin/sh\necho hi\n"),
            entry("empty.txt", 0o600, b""),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        std::fs::write(&path, &zip).unwrap();
        let script = r#"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    print(i.filename, oct(i.external_attr >> 16), i.date_time, i.compress_type, z.read(i).decode())
"#;
        let out = std::process::Command::new(python)
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "bin/run.sh 0o100755 (1980, 1, 1, 0, 0, 0) 0 #!/bin/sh"
        );
        assert!(lines.contains(&"empty.txt 0o100600 (1980, 1, 1, 0, 0, 0) 0 "));
        assert!(lines.contains(&"index.py 0o100644 (1980, 1, 1, 0, 0, 0) 0 def handler(e, c):"));
    }
}
