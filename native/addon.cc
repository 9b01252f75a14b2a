// Registers every native module; holds no logic of its own.
#include <napi.h>

#include "modules.h"

#ifndef WSCORE_SOURCE_HASH
#define WSCORE_SOURCE_HASH "unknown"
#endif

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Which native sources this binary was built from: lets a test catch a stale prebuild.
  exports.Set("sourceHash", Napi::String::New(env, WSCORE_SOURCE_HASH));
  wscore::InitMask(env, exports);
  wscore::InitUtf8(env, exports);
  wscore::InitFrames(env, exports);
  wscore::InitDeflate(env, exports);
  wscore::InitTransport(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(wscore, Init)
