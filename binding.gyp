{
  "targets": [
    {
      "target_name": "tracering",
      "sources": ["native/tracering.c", "native/stage-pages.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"],
      "conditions": [
        # Inline atomics: GCC's outline ones (libgcc's __aarch64_cas*) probe
        # the CPU with __getauxval, which musl does not have.
        ["target_arch=='arm64'", { "cflags": ["-mno-outline-atomics"] }]
      ]
    }
  ]
}
