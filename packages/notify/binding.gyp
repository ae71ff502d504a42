{
  "targets": [
    {
      "target_name": "notify",
      "sources": ["native/notify.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
