namespace DrWeb.Ml.Data;

/// <summary>
/// Derives independent, stable seeds from a run seed and indices (epoch, image). HashCode.Combine cannot be used:
/// it is salted per process, so a resumed run would draw differently from an uninterrupted one.
/// </summary>
public static class Seeds
{
    public static int Mix(int seed, params int[] parts)
    {
        ulong x = (ulong)(uint)seed;
        foreach (int p in parts) x = SplitMix(x ^ SplitMix((ulong)(uint)p + 0x9E3779B97F4A7C15UL));
        return (int)(x & 0x7FFFFFFF);
    }

    private static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
