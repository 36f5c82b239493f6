/*
 * Test-only bare-metal startup for running test/c/kernel_driver.c on QEMU's mps2-an386
 * (Cortex-M4) or mps2-an500 (Cortex-M7): vector table, FPU enable, .bss clear, and file I/O
 * plus exit through Arm semihosting (QEMU: -semihosting-config enable=on,target=native).
 * Not the firmware runtime (that lives in firmware/runtime/).
 */
#include <stdint.h>
#include <string.h>

extern uint32_t __stack_top;
extern uint32_t __bss_start;
extern uint32_t __bss_end;

int sqzfw_driver_run(const char *in_name, const char *out_name);

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_FLEN 0x0C
#define SYS_EXIT_EXTENDED 0x20

static int32_t semihost(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sqzfw_io_log(const char *msg)
{
    (void)semihost(SYS_WRITE0, msg);
}

int sqzfw_io_read(const char *name, uint8_t *buf, uint32_t max, uint32_t *len)
{
    uint32_t args[3];
    int32_t fd, n;
    args[0] = (uint32_t)(uintptr_t)name;
    args[1] = 1; /* "rb" */
    args[2] = (uint32_t)strlen(name);
    fd = semihost(SYS_OPEN, args);
    if (fd < 0)
    {
        return -1;
    }
    args[0] = (uint32_t)fd;
    n = semihost(SYS_FLEN, args);
    if (n < 0 || (uint32_t)n > max)
    {
        (void)semihost(SYS_CLOSE, args);
        return -1;
    }
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = (uint32_t)n;
    if (semihost(SYS_READ, args) != 0) /* returns the number of bytes not read */
    {
        (void)semihost(SYS_CLOSE, args);
        return -1;
    }
    (void)semihost(SYS_CLOSE, args);
    *len = (uint32_t)n;
    return 0;
}

int sqzfw_io_write(const char *name, const uint8_t *buf, uint32_t len)
{
    uint32_t args[3];
    int32_t fd, left;
    args[0] = (uint32_t)(uintptr_t)name;
    args[1] = 5; /* "wb" */
    args[2] = (uint32_t)strlen(name);
    fd = semihost(SYS_OPEN, args);
    if (fd < 0)
    {
        return -1;
    }
    args[0] = (uint32_t)fd;
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = len;
    left = semihost(SYS_WRITE, args);
    (void)semihost(SYS_CLOSE, args);
    return left == 0 ? 0 : -1;
}

static void __attribute__((noreturn)) exit_with(uint32_t code)
{
    uint32_t args[2];
    args[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
    args[1] = code;
    (void)semihost(SYS_EXIT_EXTENDED, args);
    for (;;)
    {
    }
}

void Reset_Handler(void);
void Fault_Handler(void);

void Reset_Handler(void)
{
    uint32_t *p;
    /* full access to CP10/CP11 (the FPU) before any floating-point instruction */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (p = &__bss_start; p < &__bss_end; p++)
    {
        *p = 0;
    }
    exit_with((uint32_t)sqzfw_driver_run("cases.bin", "results.bin"));
}

void Fault_Handler(void)
{
    sqzfw_io_log("driver: CPU fault\n");
    exit_with(99);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0,
    0,
    0,
    0,
    Fault_Handler, /* SVC */
    Fault_Handler, /* DebugMon */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};
