/*
 * Placement macros matching the generated linker script (linker.ld):
 *   SQZFW_WEIGHTS         const data placed in .sqzfw_weights (the board's weights region)
 *   SQZFW_ARENA(REGION)   zero-size-in-image buffer placed in the NOLOAD section .sqzfw_arena_<REGION>
 *                         (uninitialized: not zeroed at reset; REGION is a memory region name, e.g. SSRAM23)
 * Example:
 *   static const int8_t conv1_w[1728] SQZFW_WEIGHTS = { ... };
 *   static int8_t arena_SSRAM23[1048576] SQZFW_ARENA(SSRAM23);
 */
#ifndef SQZFW_SECTIONS_H
#define SQZFW_SECTIONS_H

#define SQZFW_WEIGHTS __attribute__((section(".sqzfw_weights"), aligned(16)))
/* The input section name starts with .bss. so that GCC emits it as NOBITS (no zeros in the object file). */
#define SQZFW_ARENA(region) __attribute__((section(".bss.sqzfw.arena." #region), aligned(16)))

#endif /* SQZFW_SECTIONS_H */
