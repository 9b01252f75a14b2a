// PLACEHOLDER: replaced by the utf8 module.
#include "modules.h"
namespace wscore {
void InitUtf8(Napi::Env, Napi::Object) {}
}  // namespace wscore
