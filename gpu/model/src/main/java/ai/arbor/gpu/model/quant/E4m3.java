package ai.arbor.gpu.model.quant;

/**
 * The FP8 E4M3 format of NVIDIA's tensor cores and PyTorch's {@code float8_e4m3fn}: sign, 4 exponent bits (bias 7),
 * 3 mantissa bits, no infinities, one NaN pattern per sign ({@code S.1111.111}). Normals reach 448; subnormals are
 * {@code m * 2^-9}. Encoding rounds to nearest, ties to even, and saturates to ±448, as
 * {@code tensor.clamp(-448, 448).to(torch.float8_e4m3fn)} does in vLLM's quantizer.
 */
public final class E4m3 {
    private E4m3() {}

    public static final float MAX = 448f;
    /** The positive NaN code; {@link #encode} gives it (with the sign) for NaN. */
    public static final byte NAN = 0x7F;
    private static final byte MAX_CODE = 0x7E;
    /** Smallest normal: {@code 2^-6}. */
    private static final float MIN_NORMAL = 0x1p-6f;

    /** Every code's value, indexed by the code as an unsigned byte. */
    private static final float[] TABLE = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            int e = (c >> 3) & 0xF;
            int m = c & 7;
            float mag;
            if (e == 0xF && m == 7) mag = Float.NaN;
            else if (e == 0) mag = m * 0x1p-9f;
            else mag = (1 + m / 8f) * (float) Math.scalb(1.0, e - 7);
            TABLE[c] = (c & 0x80) != 0 ? -mag : mag;
        }
    }

    public static float decode(byte code) { return TABLE[code & 0xFF]; }

    public static byte encode(float x) {
        int sign = Float.floatToRawIntBits(x) >>> 31 << 7;
        if (Float.isNaN(x)) return (byte) (sign | NAN);
        float a = Math.abs(x);
        int mag;
        if (a < MIN_NORMAL) {
            // Subnormal range: m * 2^-9, m rounded half-to-even by rint (the product is exact); m = 8 is the code of
            // the smallest normal, so the carry needs no case of its own.
            mag = (int) Math.rint(a * 0x1p9f);
        } else if (a >= MAX) {
            mag = MAX_CODE;
        } else {
            // Round the float's 23 mantissa bits to 3, half to even; a carry moves into the exponent field, as it
            // should. Then rebias the exponent from 127 to 7.
            int bits = Float.floatToRawIntBits(a);
            bits += 0x7FFFF + ((bits >> 20) & 1);
            mag = Math.min(MAX_CODE, (bits >> 20) - ((127 - 7) << 3));
        }
        return (byte) (sign | mag);
    }
}
