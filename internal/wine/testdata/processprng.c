/*
 * Test scaffolding, never shipped: Go 1.22 and later get their random
 * bytes from ProcessPrng in bcryptprimitives.dll, which Wine 8 does not
 * export, so every Go program aborts at start under it. This stand-in
 * exports ProcessPrng and fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has. internal/wine builds it with
 * MinGW-w64 and copies it into the test's own Wine prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
