// swift-tools-version:6.0
// llmscript: a Swift engine for training, compressing and shipping language models, scripted in Lua 5.4.
// Dependency direction (see ../shared/DESIGN.md §1): LLMCore <- LLMLua <- llmscript. Only LLMLua sees Lua.
import PackageDescription

let package = Package(
    name: "llmscript",
    products: [
        .executable(name: "llmscript", targets: ["llmscript"]),
        .library(name: "LLMCore", targets: ["LLMCore"]),
        .library(name: "LLMLua", targets: ["LLMLua"]),
        .library(name: "LLMOptim", targets: ["LLMOptim"]),
        .library(name: "LLMData", targets: ["LLMData"]),
        .library(name: "LLMFormats", targets: ["LLMFormats"]),
        .library(name: "LLMDistributed", targets: ["LLMDistributed"])
    ],
    targets: [
        // System libraries. Headers are found through __has_include so a missing pkg-config is harmless.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CEdit", providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        // The Lua boundary in C: the trampoline (the only place lua_error is raised) and macro wrappers.
        .target(name: "CLuaShim", dependencies: ["CLua", "CLLMIO"]),
        // File access beneath allowed folders (openat2 RESOLVE_BENEATH or an O_NOFOLLOW walk), for the sandbox.
        .target(name: "CLLMIO"),
        // The shared IO layer: opens, atomic writes, memory maps, all through the sandbox's file policy.
        .target(name: "LLMIO", dependencies: ["CLLMIO"]),
        // SIMD CPU kernels in C, compiled for baseline x86-64, AVX2+FMA and AVX-512, chosen at run time.
        .target(name: "CKernels"),
        // oneDNN's matmul primitive through libdnnl loaded at run time (dlopen): the binary runs without it.
        .target(name: "CDNNLShim", linkerSettings: [.linkedLibrary("dl")]),
        // Engine: tensors, kernels, autograd. Knows nothing of Lua.
        .target(name: "LLMCore", dependencies: ["CBLAS", "CKernels", "CDNNLShim"]),
        // Optimizers, LR schedules, gradient clipping. Knows nothing of Lua.
        .target(name: "LLMOptim", dependencies: ["LLMCore", "CKernels"]),
        // Corpus reading, tokenizers, splits and batches (tokenizer.json via LLMFormats' JSON). Knows nothing of Lua.
        .target(name: "LLMData", dependencies: ["LLMCore", "LLMFormats", "LLMIO", "CZlib"]),
        // safetensors, checkpoint directories, JSON. Knows nothing of Lua.
        .target(name: "LLMFormats", dependencies: ["LLMCore", "LLMIO", "COpenSSL"]),
        // MPI calls through libmpi loaded at run time (dlopen): no MPI headers or library at build time.
        .target(name: "CMPIShim", linkerSettings: [.linkedLibrary("dl")]),
        // Collectives over MPI (Communicator) for data-parallel training. Knows nothing of Lua.
        .target(name: "LLMDistributed", dependencies: ["LLMCore", "CMPIShim"]),
        // `llmscript serve`'s HTTP side (libmicrohttpd): routing, auth, limits, the request queue. Knows nothing of Lua.
        .target(name: "LLMServe", dependencies: ["CMicroHTTPD", "LLMFormats"]),
        // The bridge: VM wrapper, userdata, argument checking, binding tables.
        .target(name: "LLMLua", dependencies: ["CLua", "CLuaShim", "LLMCore", "LLMOptim", "LLMData", "LLMFormats", "LLMIO", "LLMDistributed", "CSQLite", "LLMServe"]),
        // CLI and REPL only; no ML logic.
        .executableTarget(name: "llmscript", dependencies: ["LLMLua", "LLMDistributed", "CEdit", "CLuaShim", "CLua"]),
        .testTarget(name: "LLMCoreTests", dependencies: ["LLMCore", "CDNNLShim"]),
        .testTarget(name: "LLMLuaTests", dependencies: ["LLMLua", "LLMCore"]),
        .testTarget(name: "LLMOptimTests", dependencies: ["LLMOptim", "LLMCore"]),
        .testTarget(name: "LLMDataTests", dependencies: ["LLMData", "LLMCore"]),
        .testTarget(name: "LLMIOTests", dependencies: ["LLMIO", "CLLMIO"]),
        .testTarget(name: "LLMFormatsTests", dependencies: ["LLMFormats", "LLMCore"]),
        // Runs the built llmscript binary as a subprocess (CLI, piped REPL, REPL on a pseudo-terminal).
        .testTarget(name: "llmscriptTests", dependencies: ["llmscript"])
    ],
    swiftLanguageModes: [.v6]
)
