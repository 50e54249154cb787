/*
 * N-API entry point of the DTLS server addon. Plain C on node_api.h; OpenSSL's symbols come from the
 * node binary itself at load time (no system libssl, nothing bundled).
 */
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include "dtls.h"

napi_value dtls_throw(napi_env env, const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  ERR_clear_error();
  napi_throw_error(env, code, msg);
  return NULL;
}

/* "<prefix>: <first OpenSSL error reason>", then clears the error queue. */
void dtls_openssl_error(char *buf, size_t len, const char *prefix) {
  unsigned long e = ERR_get_error();
  if (e == 0) {
    snprintf(buf, len, "%s", prefix);
  } else {
    const char *reason = ERR_reason_error_string(e);
    char fallback[256];
    if (reason == NULL) {
      ERR_error_string_n(e, fallback, sizeof(fallback));
      reason = fallback;
    }
    snprintf(buf, len, "%s: %s", prefix, reason);
  }
  ERR_clear_error();
}

static napi_value openssl_version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value cipher_available(napi_env env, napi_callback_info info) {
  /* cipherAvailable(name): true when this OpenSSL knows the DTLS 1.2 suite. */
  size_t argc = 1;
  napi_value argv[1], v;
  char name[128];
  size_t len = 0;
  bool ok = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1 && napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len) == napi_ok) {
    SSL_CTX *c = SSL_CTX_new(DTLS_server_method());
    if (c != NULL) {
      ok = SSL_CTX_set_cipher_list(c, name) == 1;
      SSL_CTX_free(c);
    }
  }
  ERR_clear_error();
  napi_get_boolean(env, ok, &v);
  return v;
}

static napi_value rpk_available(napi_env env, napi_callback_info info) {
  /* rpkAvailable(): true when this process's OpenSSL has the RFC 7250 functions (OpenSSL 3.2+). */
  (void)info;
  napi_value v;
  napi_get_boolean(env, dtls_rpk_available() != 0, &v);
  return v;
}

static napi_value shared_cookie_secret(napi_env env, napi_callback_info info) {
  /* sharedCookieSecret(): true: createContext takes options.cookieSecret (addon builds before it ignore it). */
  (void)info;
  napi_value v;
  napi_get_boolean(env, true, &v);
  return v;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"createContext", NULL, dtls_create_context, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rotateCookieSecret", NULL, dtls_rotate_cookie_secret, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listen", NULL, dtls_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"feed", NULL, dtls_feed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, dtls_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"handleTimeout", NULL, dtls_handle_timeout, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, dtls_shutdown, NULL, NULL, NULL, napi_enumerable, NULL},
      {"free", NULL, dtls_free, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerInfo", NULL, dtls_peer_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setIo", NULL, dtls_set_io, NULL, NULL, NULL, napi_enumerable, NULL},
      {"opensslVersion", NULL, openssl_version, NULL, NULL, NULL, napi_enumerable, NULL},
      {"cipherAvailable", NULL, cipher_available, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rpkAvailable", NULL, rpk_available, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sharedCookieSecret", NULL, shared_cookie_secret, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
