//! Parser for the rpm manifest that CBL-Mariner distroless images carry instead of an rpm
//! database (`var/lib/rpmmanifest/container-manifest-2`): one line per package, the output of
//! `rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{BUILDTIME}\t%{VENDOR}\t%{EPOCH}\t%{SIZE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}\n'`
//! (CBL-Mariner's toolkit documentation, `5_misc.md`).

use super::parse_header::RpmHeader;

/// Parses every line; lines that do not have the ten fields come back as problems.
pub(crate) fn parse_manifest(text: &str) -> (Vec<RpmHeader>, Vec<String>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line) {
            Ok(package) => packages.push(package),
            Err(reason) => problems.push(format!("line {}: {reason}", number + 1)),
        }
    }
    (packages, problems)
}

fn parse_line(line: &str) -> Result<RpmHeader, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() < 10 {
        return Err(format!(
            "{} tab-separated fields, expected 10",
            fields.len()
        ));
    }
    let name = fields[0].trim();
    if name.is_empty() {
        return Err("empty package name".to_owned());
    }
    // Neither an rpm version nor a release may contain `-`, so the last one separates them.
    let Some((version, release)) = fields[1].rsplit_once('-') else {
        return Err(format!("version `{}` has no `-RELEASE`", fields[1]));
    };
    if version.is_empty() || release.is_empty() || version.contains('-') {
        return Err(format!("version `{}` is not VERSION-RELEASE", fields[1]));
    }
    // `%{EPOCH}` prints `(none)` for no epoch; `%{EPOCHNUM}` prints 0 then.
    let epoch = match fields[5] {
        "(none)" | "" => None,
        text => Some(
            text.parse::<u32>()
                .or_else(|_| fields[8].parse::<u32>())
                .map_err(|_| format!("epoch `{text}` is not a number"))?,
        ),
    };
    let text = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty() && s != "(none)");
    Ok(RpmHeader {
        name: name.to_owned(),
        version: version.to_owned(),
        release: release.to_owned(),
        epoch,
        arch: text(fields[7]),
        source_rpm: text(fields[9]),
        vendor: text(fields[4]),
        size: fields[6].parse().ok(),
        install_time: fields[2].parse().ok(),
        ..RpmHeader::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_bad_lines() {
        let text = "vim\t9.0-1.cm2\t1\t2\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0-1.cm2.src.rpm\n\
                    short\tline\n\
                    x\t1.0\t1\t2\tv\t(none)\t1\tnoarch\t0\tx.src.rpm\n";
        let (packages, problems) = parse_manifest(text);
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].epoch, Some(2));
        assert_eq!(packages[0].size, Some(45000));
        assert_eq!(packages[0].install_time, Some(1));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 2:"));
    }
}
