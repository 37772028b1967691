package ai.arbor.gpu.backend.cpu;

/** Scalar conversions between fp32 and the 16-bit formats checkpoints store. */
final class Bf16 {
    private Bf16() {}

    static float bf16ToFloat(int bits16) {
        return Float.intBitsToFloat((bits16 & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even, as torch does when it casts fp32 to bf16. */
    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) 0x7FC0;
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE half to fp32 (Java 17 has no Float.float16ToFloat). */
    static float f16ToFloat(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            // Subnormal half: value = mant * 2^-24, exact in fp32.
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
