//! The npm cataloger on syft's and trivy's JavaScript fixtures, checked against the packages
//! those projects' tests expect.

use std::path::Path;

use clearbox_catalog::{Catalog, Package, PackageKind};

use crate::support::{catalog_dir, corpus, place, write};

fn npm(catalog: &Catalog) -> Vec<&Package> {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Npm)
        .collect()
}

/// `(name, version, purl)` of every npm package, sorted.
fn identities(catalog: &Catalog) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = npm(catalog)
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.purl.to_string()))
        .collect();
    out.sort();
    out
}

fn expected(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = rows
        .iter()
        .map(|(n, v, p)| ((*n).to_owned(), (*v).to_owned(), (*p).to_owned()))
        .collect();
    out.sort();
    out
}

fn find<'a>(catalog: &'a Catalog, name: &str, version: &str) -> &'a Package {
    npm(catalog)
        .into_iter()
        .find(|p| p.name == name && p.version == version)
        .unwrap_or_else(|| panic!("no npm package {name}@{version}"))
}

/// Catalogs one lockfile placed at `app/package-lock.json`, with nothing installed beside it.
fn lockfile(corpus: &Path, fixture: &str) -> Catalog {
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "app/package-lock.json",
        &corpus.join("pkgdb/syft/javascript/pkg-lock").join(fixture),
    );
    catalog_dir(root.path())
}

/// syft's `TestParsePackageLock` (lockfile version 1).
#[test]
fn syft_lockfile_v1() {
    let Some(corpus) = corpus() else { return };
    let catalog = lockfile(&corpus, "package-lock.json");
    let rows = [
        ("@actions/core", "1.6.0", "pkg:npm/%40actions/core@1.6.0"),
        ("ansi-regex", "3.0.0", "pkg:npm/ansi-regex@3.0.0"),
        ("cowsay", "1.4.0", "pkg:npm/cowsay@1.4.0"),
        ("get-stdin", "5.0.1", "pkg:npm/get-stdin@5.0.1"),
        (
            "is-fullwidth-code-point",
            "2.0.0",
            "pkg:npm/is-fullwidth-code-point@2.0.0",
        ),
        ("minimist", "0.0.10", "pkg:npm/minimist@0.0.10"),
        ("optimist", "0.6.1", "pkg:npm/optimist@0.6.1"),
        ("string-width", "2.1.1", "pkg:npm/string-width@2.1.1"),
        ("strip-ansi", "4.0.0", "pkg:npm/strip-ansi@4.0.0"),
        ("strip-eof", "1.0.0", "pkg:npm/strip-eof@1.0.0"),
        ("wordwrap", "0.0.3", "pkg:npm/wordwrap@0.0.3"),
    ];
    assert_eq!(identities(&catalog), expected(&rows));
    let core = find(&catalog, "@actions/core", "1.6.0");
    assert_eq!(
        core.properties["npm:integrity"],
        "sha512-NB1UAZomZlCV/LmJqkLhNTqtKfFXJZAUPcfl/zqG7EfsQdeUJtaWO98SGbuQ3pydJ3fHl2CvI/51OKYlCYYcaw=="
    );
    // The corpus replaced the registry's host name with a placeholder.
    assert!(core.properties["npm:resolved"].ends_with("/@actions/core/-/core-1.6.0.tgz"));
    assert_eq!(core.locations[0].path, "/app/package-lock.json");
    assert_eq!(core.found_by, "npm-package-lock-cataloger");
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

/// syft's `TestParsePackageLockV2`: the project itself is listed; the development dependency
/// `async` is not.
#[test]
fn syft_lockfile_v2() {
    let Some(corpus) = corpus() else { return };
    let catalog = lockfile(&corpus, "package-lock-2.json");
    let rows = [
        ("npm", "6.14.6", "pkg:npm/npm@6.14.6"),
        (
            "@types/prop-types",
            "15.7.5",
            "pkg:npm/%40types/prop-types@15.7.5",
        ),
        ("@types/react", "18.0.17", "pkg:npm/%40types/react@18.0.17"),
        (
            "@types/scheduler",
            "0.16.2",
            "pkg:npm/%40types/scheduler@0.16.2",
        ),
        ("csstype", "3.1.0", "pkg:npm/csstype@3.1.0"),
    ];
    assert_eq!(identities(&catalog), expected(&rows));
    for (name, version, _) in &rows[1..] {
        assert_eq!(find(&catalog, name, version).licenses, ["MIT"], "{name}");
    }
    let project = find(&catalog, "npm", "6.14.6");
    assert!(project.licenses.is_empty());
    assert_eq!(project.properties["npm:lockfile-project"], "true");
}

/// syft's `TestParsePackageLockV3`.
#[test]
fn syft_lockfile_v3() {
    let Some(corpus) = corpus() else { return };
    let catalog = lockfile(&corpus, "package-lock-3.json");
    let rows = [
        ("lock-v3-fixture", "1.0.0", "pkg:npm/lock-v3-fixture@1.0.0"),
        (
            "@types/prop-types",
            "15.7.5",
            "pkg:npm/%40types/prop-types@15.7.5",
        ),
        ("@types/react", "18.0.20", "pkg:npm/%40types/react@18.0.20"),
        (
            "@types/scheduler",
            "0.16.2",
            "pkg:npm/%40types/scheduler@0.16.2",
        ),
        ("csstype", "3.1.1", "pkg:npm/csstype@3.1.1"),
    ];
    assert_eq!(identities(&catalog), expected(&rows));
    assert_eq!(
        find(&catalog, "csstype", "3.1.1").properties["npm:integrity"],
        "sha512-DJR/VvkAvSZW9bTouZue2sSxDwdTN92uHjqeKVm+0dAqdfNykRzQ95tay8aXMBAAPpUiq4Qcug2L7neoRh2Egw=="
    );
}

/// syft's `TestParsePackageLockAlias`: aliases name the real package; version 2 lists the
/// project too.
#[test]
fn syft_lockfile_aliases() {
    let Some(corpus) = corpus() else { return };
    let common = [
        ("case", "1.6.2", "pkg:npm/case@1.6.2"),
        ("case", "1.6.3", "pkg:npm/case@1.6.3"),
        (
            "@bundled-es-modules/chai",
            "4.2.2",
            "pkg:npm/%40bundled-es-modules/chai@4.2.2",
        ),
    ];
    let catalog = lockfile(&corpus, "alias-package-lock-1.json");
    assert_eq!(identities(&catalog), expected(&common));
    let catalog = lockfile(&corpus, "alias-package-lock-2.json");
    let mut rows = common.to_vec();
    rows.push(("alias-check", "1.0.0", "pkg:npm/alias-check@1.0.0"));
    assert_eq!(identities(&catalog), expected(&rows));
    assert_eq!(find(&catalog, "alias-check", "1.0.0").licenses, ["ISC"]);
}

/// syft's `TestParsePackageLockLicenseWithArray`.
#[test]
fn syft_lockfile_array_licenses() {
    let Some(corpus) = corpus() else { return };
    let catalog = lockfile(&corpus, "array-license-package-lock.json");
    assert_eq!(find(&catalog, "tmp", "1.0.0").licenses, ["ISC"]);
    assert_eq!(
        find(&catalog, "pause-stream", "0.0.11").licenses,
        ["MIT", "Apache2"]
    );
    assert_eq!(find(&catalog, "through", "2.3.8").licenses, ["MIT"]);
    assert_eq!(npm(&catalog).len(), 3);
}

/// Lockfile version 1 nests packages installed below others. Expected from the file itself
/// (the corpus has no anchor for it): every nested version once, the development subtree
/// left out, and `duplicate`, listed twice, as one package.
#[test]
fn lockfile_v1_nested_packages() {
    let Some(corpus) = corpus() else { return };
    let catalog = lockfile(&corpus, "nested-package-lock-1.json");
    let rows = [
        ("parent", "1.0.0", "pkg:npm/parent@1.0.0"),
        ("shared", "1.0.0", "pkg:npm/shared@1.0.0"),
        ("middle", "1.0.0", "pkg:npm/middle@1.0.0"),
        ("shared", "0.5.0", "pkg:npm/shared@0.5.0"),
        ("duplicate", "1.0.0", "pkg:npm/duplicate@1.0.0"),
        ("shared", "2.0.0", "pkg:npm/shared@2.0.0"),
    ];
    assert_eq!(identities(&catalog), expected(&rows));
}

/// A lockfile beside an installed `node_modules` is not read: what is installed is listed.
#[test]
fn lockfile_beside_node_modules_is_not_read() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let fixtures = corpus.join("pkgdb/syft/javascript/pkg-lock");
    place(
        root.path(),
        "app/package-lock.json",
        &fixtures.join("package-lock.json"),
    );
    place(
        root.path(),
        "app/node_modules/cowsay/package.json",
        &fixtures.join("node_modules/cowsay/package.json"),
    );
    let catalog = catalog_dir(root.path());
    let found: Vec<(&str, &str)> = npm(&catalog)
        .iter()
        .map(|p| (p.name.as_str(), p.found_by))
        .collect();
    assert_eq!(found, [("cowsay", "npm-installed-package-cataloger")]);
}

/// syft's `TestParsePackageJSON` cases, each installed as `node_modules/NAME/package.json`.
/// Home pages in the corpus copies point at `.invalid` hosts.
#[test]
fn syft_package_json_forms() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("pkgdb/syft/javascript/pkg-json");
    let isaac = "Isaac Z. Schlueter <i@izs.me> (http://blog.izs.me)";
    let cases: [(&str, &[&str], Option<&str>, &str); 7] = [
        (
            "package.json",
            &["Artistic-2.0"],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
        (
            "package-license-object.json",
            &["ISC"],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
        (
            "package-license-objects.json",
            &["MIT", "Apache-2.0"],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
        (
            "package-no-license.json",
            &[],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
        (
            "package-nested-author.json",
            &["Artistic-2.0"],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
        (
            "package-repo-string.json",
            &["MIT"],
            Some("Raynos <raynos2@gmail.com>"),
            "git://github.com/Raynos/function-bind.git",
        ),
        (
            "package-private.json",
            &["Artistic-2.0"],
            Some(isaac),
            "https://github.com/npm/cli",
        ),
    ];
    for (fixture, licenses, author, repository) in cases {
        let catalog = installed(&dir.join(fixture));
        let packages = npm(&catalog);
        assert_eq!(packages.len(), 1, "{fixture}");
        let p = packages[0];
        assert_eq!(p.licenses, licenses, "{fixture}");
        assert_eq!(
            p.properties.get("npm:author").map(String::as_str),
            author,
            "{fixture}"
        );
        assert_eq!(p.properties["npm:repository"], repository, "{fixture}");
        assert!(p.homepage.is_some(), "{fixture}");
        assert!(p.description.is_some(), "{fixture}");
        assert_eq!(
            p.properties.get("npm:private").map(String::as_str),
            (fixture == "package-private.json").then_some("true"),
            "{fixture}"
        );
    }
    let npm_json = installed(&dir.join("package.json"));
    let p = npm(&npm_json)[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("npm", "6.14.6"));
    assert_eq!(p.purl.to_string(), "pkg:npm/npm@6.14.6");
    assert_eq!(p.supplier.as_deref(), Some("Isaac Z. Schlueter <i@izs.me>"));
    assert_eq!(
        p.description.as_deref(),
        Some("a package manager for JavaScript")
    );
}

/// Differences from syft on purpose: a `licenses` array of plain strings is read (syft's
/// `package-malformed-license.json` case expects no licence), and a manifest without a name
/// (`package-partial.json`, which syft skips silently) is reported as an unknown.
#[test]
fn package_json_deliberate_differences() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("pkgdb/syft/javascript/pkg-json");
    let catalog = installed(&dir.join("package-malformed-license.json"));
    assert_eq!(npm(&catalog)[0].licenses, ["MIT"]);
    let catalog = installed(&dir.join("package-partial.json"));
    assert!(npm(&catalog).is_empty());
    assert_eq!(catalog.unknowns[0].reason, "package.json has no `name`");
}

/// The newer syft people fixtures: `author` wins; otherwise `authors`, in every form.
#[test]
fn syft_package_json_people() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("pkgdb/syft/javascript/pkg-json");
    let harry = "Harry Potter <hp@hogwards.com> (http://youknowwho.com/)";
    let john = "John Smith <j.smith@something.com> (http://awebsite.com/)";
    let cases = [
        (
            "package-all-author-fields.json",
            Some("Main Author <main@example.com>".to_owned()),
        ),
        (
            "package-authors-array.json",
            Some(format!("{harry}, {john}")),
        ),
        (
            "package-authors-objects.json",
            Some(format!("{harry}, {john}")),
        ),
        ("package-authors-string.json", Some(harry.to_owned())),
        (
            "package-both-author-and-authors.json",
            Some("Isaac Z. Schlueter <i@izs.me> (http://blog.izs.me)".to_owned()),
        ),
        (
            "package-author-non-standard.json",
            Some("npm Inc. (https://npm.invalid/)".to_owned()),
        ),
        ("package-contributors.json", None),
        ("package-maintainers.json", None),
    ];
    for (fixture, author) in cases {
        let catalog = installed(&dir.join(fixture));
        let p = npm(&catalog)[0];
        assert_eq!(p.properties.get("npm:author"), author.as_ref(), "{fixture}");
    }
}

fn installed(fixture: &Path) -> Catalog {
    let root = tempfile::tempdir().unwrap();
    let name = serde_json::from_slice::<serde_json::Value>(&std::fs::read(fixture).unwrap())
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unnamed".to_owned());
    place(
        root.path(),
        &format!("app/node_modules/{name}/package.json"),
        fixture,
    );
    catalog_dir(root.path())
}

/// trivy's `Test_npmLibraryAnalyzer_Analyze` "with `node_modules`": the installed packages, with
/// their licences. The differences are on purpose: trivy lists what the lockfile names, and
/// clearbox what is installed. So `ansi-colors` (a development dependency) and `array-flatten`
/// (not in the fixture's `node_modules`) are absent, and `@babel/parser`, installed but
/// missing from trivy's list, is present.
#[test]
fn trivy_with_node_modules() {
    let Some(corpus) = corpus() else { return };
    let happy = corpus.join("pkgdb/trivy/language/nodejs/npm/happy");
    let root = tempfile::tempdir().unwrap();
    copy_tree(&happy, &root.path().join("app"));
    let catalog = catalog_dir(root.path());
    let rows = [
        ("@babel/parser", "7.23.6", "pkg:npm/%40babel/parser@7.23.6"),
        ("body-parser", "1.18.3", "pkg:npm/body-parser@1.18.3"),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9"),
        ("express", "4.16.4", "pkg:npm/express@4.16.4"),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0"),
        ("ms", "2.1.1", "pkg:npm/ms@2.1.1"),
    ];
    assert_eq!(identities(&catalog), expected(&rows));
    for p in npm(&catalog) {
        assert_eq!(p.licenses, ["MIT"], "{}", p.name);
        assert_eq!(p.found_by, "npm-installed-package-cataloger");
    }
    let debug = find(&catalog, "debug", "2.6.9");
    let paths: Vec<&str> = debug.locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/app/node_modules/body-parser/node_modules/debug/package.json",
            "/app/node_modules/express/node_modules/debug/package.json"
        ]
    );
}

/// trivy's "without `node_modules`" and "sad path" cases.
#[test]
fn trivy_lockfile_only_and_broken() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("pkgdb/trivy/language/nodejs/npm");
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "a/package-lock.json",
        &dir.join("no-node_modules/package-lock.json"),
    );
    place(
        root.path(),
        "b/package-lock.json",
        &dir.join("sad/package-lock.json"),
    );
    let catalog = catalog_dir(root.path());
    assert_eq!(
        identities(&catalog),
        expected(&[("ms", "2.1.1", "pkg:npm/ms@2.1.1")])
    );
    assert_eq!(catalog.unknowns.len(), 1);
    assert_eq!(catalog.unknowns[0].path, "/b/package-lock.json");
    assert!(catalog.unknowns[0].reason.contains("not valid JSON"));
}

/// trivy's `package.json` analyzer fixtures as installed packages, and syft's corrupt files.
#[test]
fn package_json_corrupt_and_nameless() {
    let Some(corpus) = corpus() else { return };
    let trivy = corpus.join("pkgdb/trivy/language/nodejs/pkg");
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "node_modules/lodash/package.json",
        &trivy.join("package.json"),
    );
    place(
        root.path(),
        "node_modules/noname/package.json",
        &trivy.join("noname.json"),
    );
    place(
        root.path(),
        "node_modules/sad/package.json",
        &trivy.join("sad.json"),
    );
    let syft = corpus.join("pkgdb/syft/javascript/corrupt");
    place(
        root.path(),
        "node_modules/corrupt/package.json",
        &syft.join("package.json"),
    );
    place(
        root.path(),
        "srv/package-lock.json",
        &syft.join("package-lock.json"),
    );
    let catalog = catalog_dir(root.path());
    let lodash = find(&catalog, "lodash", "5.0.0");
    assert_eq!(lodash.licenses, ["MIT"]);
    assert_eq!(lodash.properties["npm:private"], "true");
    assert_eq!(npm(&catalog).len(), 1);
    let mut reasons: Vec<(&str, &str)> = catalog
        .unknowns
        .iter()
        .map(|u| (u.path.as_str(), u.reason.as_str()))
        .collect();
    reasons.sort_unstable();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0].0, "/node_modules/corrupt/package.json");
    assert_eq!(
        reasons[1],
        (
            "/node_modules/noname/package.json",
            "package.json has no `name`"
        )
    );
    assert_eq!(reasons[2].0, "/node_modules/sad/package.json");
    assert_eq!(reasons[3].0, "/srv/package-lock.json");
}

/// A project's own `package.json` outside `node_modules` is not a package of the image.
#[test]
fn project_package_json_is_not_read() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "app/package.json",
        r#"{"name":"app","version":"1.0.0"}"#,
    );
    write(
        root.path(),
        "app/node_modules/x/dist/esm/package.json",
        r#"{"type":"module"}"#,
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.packages.is_empty(), "{:?}", catalog.packages);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// syft's `TestCataloger_Globs` tree: of its files, the npm catalogers request only the
/// lockfile (yarn, pnpm, bun and deno lockfiles are not read yet, and a project's own
/// `package.json` is not a package), which contains `bogus` and gives one unknown.
#[test]
fn syft_requested_paths() {
    let Some(corpus) = corpus() else { return };
    let catalog = catalog_dir(&corpus.join("pkgdb/syft/javascript/glob-paths"));
    assert!(catalog.packages.is_empty(), "{:?}", catalog.packages);
    let reasons: Vec<(&str, &str)> = catalog
        .unknowns
        .iter()
        .map(|u| (u.path.as_str(), u.cataloger))
        .collect();
    assert_eq!(
        reasons,
        [("/src/package-lock.json", "npm-package-lock-cataloger")]
    );
}
