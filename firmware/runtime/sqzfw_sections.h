/*
 * Placement macros matching the generated linker script (linker.ld):
 *   SQZFW_WEIGHTS         const data placed in the weights sections: .sqzfw_weights (the board's first weights
 *                         region) and, when that is full, .sqzfw_weights_<REGION> of the next weights regions.
 *                         Each array gets its own input section (.sqzfw_weights.<line>), so that the linker can put
 *                         every array where it fits (--enable-non-contiguous-regions), first region first.
 *   SQZFW_ARENA(REGION)   zero-size-in-image buffer placed in the NOLOAD section .sqzfw_arena_<REGION>
 *                         (uninitialized: not zeroed at reset; REGION is a memory region name, e.g. SSRAM23)
 * Example:
 *   static const int8_t conv1_w[1728] SQZFW_WEIGHTS = { ... };
 *   static int8_t arena_SSRAM23[1048576] SQZFW_ARENA(SSRAM23);
 */
#ifndef SQZFW_SECTIONS_H
#define SQZFW_SECTIONS_H

#define SQZFW_SECTION_STR2(x) #x
#define SQZFW_SECTION_STR(x) SQZFW_SECTION_STR2(x)

#define SQZFW_WEIGHTS __attribute__((section(".sqzfw_weights." SQZFW_SECTION_STR(__LINE__)), aligned(16)))
/* The input section name starts with .bss. so that GCC emits it as NOBITS (no zeros in the object file). */
#define SQZFW_ARENA(region) __attribute__((section(".bss.sqzfw.arena." #region), aligned(16)))

#endif /* SQZFW_SECTIONS_H */
