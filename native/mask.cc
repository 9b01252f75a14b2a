// PLACEHOLDER: replaced by the mask module.
#include "modules.h"
namespace wscore {
void InitMask(Napi::Env, Napi::Object) {}
}  // namespace wscore
