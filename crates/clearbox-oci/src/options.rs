//! Limits and choices for reading images.

use crate::registry::RegistryOptions;
use crate::spec::Platform;

/// How an image is read. The limits keep hostile layers from exhausting memory, disk or time;
/// genuine images stay far below them.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Maximum ratio of decompressed to compressed bytes of one layer. Default 256. Real layers
    /// compress 2 to 10 times; a gzip bomb of zeros reaches about 1000.
    pub max_expansion_ratio: u64,
    /// Decompressed bytes allowed before the ratio is enforced, so that small, very
    /// compressible layers pass. Default 64 MiB.
    pub ratio_grace_bytes: u64,
    /// Maximum decompressed size of one layer. Default 512 GiB.
    pub max_layer_bytes: u64,
    /// Maximum number of filesystem entries in the whole image. Default 4 million. Each entry
    /// costs about 150 bytes of memory.
    pub max_entries: usize,
    /// Maximum length of an entry name or link target. Default 4096 bytes, Linux's `PATH_MAX`.
    pub max_name_len: usize,
    /// Maximum size of one GNU long-name or PAX extension header. Default 1 MiB.
    pub max_extension_len: u64,
    /// Maximum size of a JSON document (index, manifest, config, archive manifest).
    /// Default 16 MiB.
    pub max_json_bytes: u64,
    /// Layers decompressed in parallel. Default: the number of CPUs.
    pub threads: usize,
    /// Platform picked from a multi-platform index. Default `linux/amd64`.
    pub platform: Platform,
    /// Whether [`platform`](Self::platform) was requested rather than defaulted. When true, a
    /// single-platform image (a manifest, not an index) whose config names another platform is
    /// rejected with [`OciError::PlatformMismatch`](crate::OciError::PlatformMismatch). Default
    /// false: such an image is read whatever its platform.
    pub require_platform: bool,
    /// Settings for fetching `docker://` images: insecure registries, CA file, credentials,
    /// retries. [`Image::open`](crate::Image::open) builds a
    /// [`RegistryClient`](crate::registry::RegistryClient) from these for each registry image.
    pub registry: RegistryOptions,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_expansion_ratio: 256,
            ratio_grace_bytes: 64 << 20,
            max_layer_bytes: 512 << 30,
            max_entries: 4_000_000,
            max_name_len: 4096,
            max_extension_len: 1 << 20,
            max_json_bytes: 16 << 20,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            platform: Platform {
                architecture: "amd64".into(),
                os: "linux".into(),
                variant: None,
            },
            require_platform: false,
            registry: RegistryOptions::default(),
        }
    }
}

/// Receives progress while layers are read. Implementations must be cheap: `advanced` is
/// called for every buffer read.
pub trait Progress: Sync {
    /// A layer began; `bytes` is its stored size when known.
    fn started(&self, layer: usize, layers: usize, bytes: Option<u64>) {
        let _ = (layer, layers, bytes);
    }
    /// `bytes` more stored bytes of `layer` were read.
    fn advanced(&self, layer: usize, bytes: u64) {
        let _ = (layer, bytes);
    }
    /// A layer is done.
    fn finished(&self, layer: usize) {
        let _ = layer;
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
