//! The package table on the realistic catalog.

use clearbox_sbom::to_table;

use crate::fixtures;

#[test]
fn table_of_example_image() {
    assert_eq!(
        to_table(&fixtures::catalog()),
        "\
NAME                                 VERSION                                   TYPE
all-MiniLM-L6-v2                     8b3219a92973c328a8e22fadcfa821b5dc75636a  model
broken                                                                         model
certifi                              2024.2.2                                  python  (+1 duplicate)
cryptography                         42.0.5                                    python
gcc-12-base                          12.2.0-14                                 deb
github.com/prometheus/client_golang  v1.19.0                                   go-module
golang.org/x/crypto                  v0.21.0                                   go-module
Jinja2                               3.1.2                                     python
libc6                                2.36-9+deb12u10                           deb
libexpat1                            2.5.0-1+deb12u1                           deb
naïve-ünïcode                        0.1                                       python
stdlib                               go1.22.1                                  go-stdlib
Tiny                                                                           model
tzdata                               2024a-0+deb12u1                           deb
zlib1g                               1:1.2.13.dfsg-1                           deb
"
    );
}
