//! The tensor types and file types of ggml, shared by GGUF and the legacy ggml containers.
//!
//! Type numbers and names follow `enum ggml_type` in ggml's `docs/gguf.md`; bytes per block
//! follow the `block_*` structs of ggml's `ggml-common.h` (a block holds `block_size`
//! elements). File-type names follow `enum llama_ftype` in llama.cpp's `include/llama.h`.

/// One ggml tensor type.
pub(crate) struct TensorType {
    pub(crate) name: &'static str,
    /// Elements per block.
    pub(crate) block_size: u64,
    /// Bytes per block.
    pub(crate) block_bytes: u64,
}

#[allow(clippy::unnecessary_wraps)] // Keeps the table below to one call per type.
const fn t(name: &'static str, block_size: u64, block_bytes: u64) -> Option<TensorType> {
    Some(TensorType {
        name,
        block_size,
        block_bytes,
    })
}

/// Returns the tensor type with number `id`; `None` for numbers ggml never used or removed.
pub(crate) fn tensor_type(id: u32) -> Option<TensorType> {
    match id {
        0 => t("F32", 1, 4),
        1 => t("F16", 1, 2),
        2 => t("Q4_0", 32, 18),
        3 => t("Q4_1", 32, 20),
        6 => t("Q5_0", 32, 22),
        7 => t("Q5_1", 32, 24),
        8 => t("Q8_0", 32, 34),
        9 => t("Q8_1", 32, 36),
        10 => t("Q2_K", 256, 84),
        11 => t("Q3_K", 256, 110),
        12 => t("Q4_K", 256, 144),
        13 => t("Q5_K", 256, 176),
        14 => t("Q6_K", 256, 210),
        15 => t("Q8_K", 256, 292),
        16 => t("IQ2_XXS", 256, 66),
        17 => t("IQ2_XS", 256, 74),
        18 => t("IQ3_XXS", 256, 98),
        19 => t("IQ1_S", 256, 50),
        20 => t("IQ4_NL", 32, 18),
        21 => t("IQ3_S", 256, 110),
        22 => t("IQ2_S", 256, 82),
        23 => t("IQ4_XS", 256, 136),
        24 => t("I8", 1, 1),
        25 => t("I16", 1, 2),
        26 => t("I32", 1, 4),
        27 => t("I64", 1, 8),
        28 => t("F64", 1, 8),
        29 => t("IQ1_M", 256, 56),
        30 => t("BF16", 1, 2),
        34 => t("TQ1_0", 256, 54),
        35 => t("TQ2_0", 256, 66),
        39 => t("MXFP4", 32, 17),
        _ => None,
    }
}

impl TensorType {
    /// Bytes that `elements` elements take; `None` when they are not whole blocks or overflow.
    pub(crate) fn bytes(&self, elements: u64) -> Option<u64> {
        if !elements.is_multiple_of(self.block_size) {
            return None;
        }
        (elements / self.block_size).checked_mul(self.block_bytes)
    }
}

/// Returns the name of a llama.cpp file type (GGUF `general.file_type`, the `ftype`
/// hyperparameter of ggjt files).
pub(crate) fn file_type_name(id: u64) -> String {
    let name = match id {
        0 => "ALL_F32",
        1 => "MOSTLY_F16",
        2 => "MOSTLY_Q4_0",
        3 => "MOSTLY_Q4_1",
        4 => "MOSTLY_Q4_1_SOME_F16",
        5 => "MOSTLY_Q4_2",
        6 => "MOSTLY_Q4_3",
        7 => "MOSTLY_Q8_0",
        8 => "MOSTLY_Q5_0",
        9 => "MOSTLY_Q5_1",
        10 => "MOSTLY_Q2_K",
        11 => "MOSTLY_Q3_K_S",
        12 => "MOSTLY_Q3_K_M",
        13 => "MOSTLY_Q3_K_L",
        14 => "MOSTLY_Q4_K_S",
        15 => "MOSTLY_Q4_K_M",
        16 => "MOSTLY_Q5_K_S",
        17 => "MOSTLY_Q5_K_M",
        18 => "MOSTLY_Q6_K",
        19 => "MOSTLY_IQ2_XXS",
        20 => "MOSTLY_IQ2_XS",
        21 => "MOSTLY_Q2_K_S",
        22 => "MOSTLY_IQ3_XS",
        23 => "MOSTLY_IQ3_XXS",
        24 => "MOSTLY_IQ1_S",
        25 => "MOSTLY_IQ4_NL",
        26 => "MOSTLY_IQ3_S",
        27 => "MOSTLY_IQ3_M",
        28 => "MOSTLY_IQ2_S",
        29 => "MOSTLY_IQ2_M",
        30 => "MOSTLY_IQ4_XS",
        31 => "MOSTLY_IQ1_M",
        32 => "MOSTLY_BF16",
        33 => "MOSTLY_Q4_0_4_4",
        34 => "MOSTLY_Q4_0_4_8",
        35 => "MOSTLY_Q4_0_8_8",
        36 => "MOSTLY_TQ1_0",
        37 => "MOSTLY_TQ2_0",
        38 => "MOSTLY_MXFP4_MOE",
        // Numbers llama.cpp added later, or that this table does not know, are shown as numbers.
        _ => return format!("file type {id}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantised_sizes_are_whole_blocks() {
        let q4_k = tensor_type(12).unwrap();
        assert_eq!(q4_k.bytes(4096 * 256), Some(4096 * 144));
        assert_eq!(q4_k.bytes(100), None);
        assert_eq!(tensor_type(0).unwrap().bytes(10), Some(40));
        assert!(tensor_type(4).is_none());
    }

    #[test]
    fn file_type_names() {
        assert_eq!(file_type_name(15), "MOSTLY_Q4_K_M");
        assert_eq!(file_type_name(1000), "file type 1000");
    }
}
