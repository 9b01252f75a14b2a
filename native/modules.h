// Each native module registers its exports through one of these. addon.cc calls them all.
#pragma once
#include <napi.h>

namespace wscore {
void InitMask(Napi::Env env, Napi::Object exports);
void InitUtf8(Napi::Env env, Napi::Object exports);
void InitFrames(Napi::Env env, Napi::Object exports);
void InitDeflate(Napi::Env env, Napi::Object exports);
// Linux only; elsewhere it exports nothing (the TS side then keeps Node's sockets).
void InitTransport(Napi::Env env, Napi::Object exports);
}  // namespace wscore
