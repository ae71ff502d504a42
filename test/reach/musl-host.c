/*
 * A tiny Node-API host linked against musl, to load notify.node under musl's own
 * loader where no musl Node is at hand (npm has none; Bun's musl build needs a musl
 * libstdc++, which Debian lacks). It exports the Node-API functions the addon's
 * socket/connect/send path calls, dlopen()s the addon, registers it, and sends one
 * datagram through it:
 *
 *   musl-host <addon.node> <socket path> <message>
 *
 * prints {"fd":N,"connect":0,"sent":N,"glibcMapped":false,"musl":"<mapped musl libc>"}.
 * Every other napi_* symbol the addon names comes from a generated stub file (musl
 * binds every symbol at dlopen, so each must exist); a stub is never called on
 * this path, and returns napi_generic_failure if it were.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

enum kind { K_UNDEFINED, K_NULL, K_NUMBER, K_BUFFER, K_OBJECT, K_BOOLEAN };

struct napi_value__ {
  enum kind kind;
  int64_t number;
  void *data;
  size_t length;
};

struct napi_callback_info__ {
  size_t argc;
  napi_value *argv;
};

#define MAX_METHODS 64
static struct {
  const char *name;
  napi_callback cb;
} methods[MAX_METHODS];
static size_t method_count;
static struct napi_value__ pool[256];
static size_t pool_used;

static napi_value make(enum kind kind) {
  if (pool_used == sizeof(pool) / sizeof(pool[0])) {
    fprintf(stderr, "musl-host: value pool exhausted\n");
    exit(3);
  }
  napi_value v = &pool[pool_used++];
  memset(v, 0, sizeof(*v));
  v->kind = kind;
  return v;
}

napi_status napi_create_int64(napi_env env, int64_t value, napi_value *result) {
  (void)env;
  *result = make(K_NUMBER);
  (*result)->number = value;
  return napi_ok;
}

napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result) {
  return napi_create_int64(env, value, result);
}

napi_status napi_get_value_int32(napi_env env, napi_value value, int32_t *result) {
  (void)env;
  if (value->kind != K_NUMBER) return napi_number_expected;
  *result = (int32_t)value->number;
  return napi_ok;
}

napi_status napi_get_buffer_info(napi_env env, napi_value value, void **data, size_t *length) {
  (void)env;
  if (value->kind != K_BUFFER) return napi_invalid_arg;
  *data = value->data;
  *length = value->length;
  return napi_ok;
}

napi_status napi_typeof(napi_env env, napi_value value, napi_valuetype *result) {
  (void)env;
  static const napi_valuetype types[] = {napi_undefined, napi_null, napi_number, napi_object, napi_object, napi_boolean};
  *result = types[value->kind];
  return napi_ok;
}

napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                             napi_value *this_arg, void **data) {
  (void)env;
  for (size_t i = 0; argv != NULL && i < *argc; i++) argv[i] = i < info->argc ? info->argv[i] : make(K_UNDEFINED);
  *argc = info->argc;
  if (this_arg) *this_arg = make(K_UNDEFINED);
  if (data) *data = NULL;
  return napi_ok;
}

napi_status napi_define_properties(napi_env env, napi_value object, size_t count,
                                   const napi_property_descriptor *properties) {
  (void)env;
  (void)object;
  for (size_t i = 0; i < count && method_count < MAX_METHODS; i++) {
    methods[method_count].name = properties[i].utf8name;
    methods[method_count].cb = properties[i].method;
    method_count++;
  }
  return napi_ok;
}

napi_status napi_is_exception_pending(napi_env env, bool *result) {
  (void)env;
  *result = false;
  return napi_ok;
}

napi_status napi_get_last_error_info(napi_env env, const napi_extended_error_info **result) {
  (void)env;
  static const napi_extended_error_info info = {"musl-host", NULL, 0, napi_generic_failure};
  *result = &info;
  return napi_ok;
}

static napi_status thrown(const char *code, const char *msg) {
  fprintf(stderr, "musl-host: the addon threw %s: %s\n", code ? code : "", msg);
  exit(4);
}

napi_status napi_throw_error(napi_env env, const char *code, const char *msg) { (void)env; return thrown(code, msg); }
napi_status napi_throw_type_error(napi_env env, const char *code, const char *msg) { (void)env; return thrown(code, msg); }
napi_status napi_throw_range_error(napi_env env, const char *code, const char *msg) { (void)env; return thrown(code, msg); }

static napi_value call(const char *name, size_t argc, napi_value *argv) {
  for (size_t i = 0; i < method_count; i++) {
    if (strcmp(methods[i].name, name) != 0) continue;
    struct napi_callback_info__ info = {argc, argv};
    napi_value result = methods[i].cb((napi_env)&info, &info);
    if (result == NULL || result->kind != K_NUMBER) {
      fprintf(stderr, "musl-host: %s() returned no number\n", name);
      exit(5);
    }
    return result;
  }
  fprintf(stderr, "musl-host: the addon exports no %s()\n", name);
  exit(6);
}

static napi_value buffer(const char *text) {
  napi_value v = make(K_BUFFER);
  v->data = (void *)text;
  v->length = strlen(text);
  return v;
}

/* Whether glibc is in this process at all, and which musl file is mapped. */
static void libraries(bool *glibc, char *musl, size_t size) {
  char line[512];
  FILE *maps = fopen("/proc/self/maps", "r");
  *glibc = false;
  musl[0] = '\0';
  while (maps && fgets(line, sizeof(line), maps)) {
    if (strstr(line, "libc.so.6")) *glibc = true;
    char *path = strchr(line, '/');
    if (path && strstr(path, "musl") && musl[0] == '\0') snprintf(musl, size, "%.*s", (int)strcspn(path, "\n"), path);
  }
  if (maps) fclose(maps);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: musl-host <addon.node> <socket path> <message>\n");
    return 2;
  }
  void *addon = dlopen(argv[1], RTLD_NOW);
  if (!addon) {
    fprintf(stderr, "musl-host: dlopen: %s\n", dlerror());
    return 1;
  }
  napi_value (*init)(napi_env, napi_value) = (napi_value(*)(napi_env, napi_value))dlsym(addon, "napi_register_module_v1");
  if (!init) {
    fprintf(stderr, "musl-host: no napi_register_module_v1\n");
    return 1;
  }
  init((napi_env)&method_count, make(K_OBJECT));

  napi_value fd = call("socket", 0, NULL);
  napi_value connect_args[] = {fd, buffer(argv[2])};
  napi_value connected = call("connect", 2, connect_args);
  napi_value send_args[] = {fd, make(K_NULL), buffer(argv[3]), make(K_NULL)};
  napi_value sent = call("send", 4, send_args);
  bool glibc;
  char musl[256];
  libraries(&glibc, musl, sizeof(musl));
  printf("{\"fd\":%lld,\"connect\":%lld,\"sent\":%lld,\"glibcMapped\":%s,\"musl\":\"%s\"}\n",
         (long long)fd->number, (long long)connected->number, (long long)sent->number,
         glibc ? "true" : "false", musl);
  return 0;
}
