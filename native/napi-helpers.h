// Argument and error helpers shared by the addon's source files (defined in tracering.c).
#ifndef TRACERING_NAPI_HELPERS_H
#define TRACERING_NAPI_HELPERS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Throws a Node-style system error ({ code, errno, syscall }) for errno `err`. */
napi_value throw_errno(napi_env env, int err, const char* syscall_name);
napi_value throw_type_error(napi_env env, const char* message);
bool get_int64(napi_env env, napi_value v, int64_t* out);
napi_value make_int64(napi_env env, int64_t v);
/** A TypedArray, DataView or ArrayBuffer argument as a byte pointer and length. */
bool get_bytes(napi_env env, napi_value v, uint8_t** data, size_t* length);

napi_value js_stage_pages(napi_env env, napi_callback_info info);

#endif
