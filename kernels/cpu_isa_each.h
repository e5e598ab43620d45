// Declares every build of one kernel's CPU loops, for LNTUNE_CPU_DISPATCH (cpu_isa.h): includes
// LNTUNE_ISA_DECLARATIONS (the kernel's *_cpu_isa.inc) once per instruction-set namespace.
// No include guard on purpose: each kernels/*/*_cpu.cpp defines LNTUNE_ISA_DECLARATIONS and
// includes this once.
#define LNTUNE_ISA base
#include LNTUNE_ISA_DECLARATIONS
#undef LNTUNE_ISA
#ifdef LNTUNE_KERNELS_X86
#define LNTUNE_ISA avx2
#include LNTUNE_ISA_DECLARATIONS
#undef LNTUNE_ISA
#define LNTUNE_ISA avx512
#include LNTUNE_ISA_DECLARATIONS
#undef LNTUNE_ISA
#endif
#undef LNTUNE_ISA_DECLARATIONS
