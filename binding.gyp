{
  "targets": [
    {
      "target_name": "lwm2m_dtls",
      "sources": [
        "native/addon.c",
        "native/bio.c",
        "native/cookie.c",
        "native/context.c",
        "native/identity.c",
        "native/peer.c",
        "native/rpk.c"
      ],
      "cflags_c": ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8", "OPENSSL_API_COMPAT=0x30000000L"],
      "conditions": [
        ["OS=='win'", { "defines": ["OPENSSL_NO_UPLINK"] }]
      ]
    }
  ]
}
