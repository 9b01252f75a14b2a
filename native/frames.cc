// PLACEHOLDER: replaced by the frames module.
#include "modules.h"
namespace wscore {
void InitFrames(Napi::Env, Napi::Object) {}
}  // namespace wscore
