// Precompiled header for every LibTorch translation unit (torch headers cost ~30 s per TU).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
