using System.Security.Cryptography;

namespace DrWeb.Server.Platform;

/// <summary>
/// Stores bytes under their SHA-256, so an image uploaded twice is kept once and recognised. Files are written to a
/// temporary name and renamed, so a crash never leaves half a file under a valid name.
/// </summary>
public sealed class ImageStore(DataFolder data)
{
    private readonly string _root = data.Sub("images");

    public static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public bool Contains(string hash) => IsHash(hash) && File.Exists(PathOf(hash));

    /// <summary>Saves the bytes if they are new; returns their hash.</summary>
    public string Save(byte[] bytes)
    {
        string hash = HashOf(bytes);
        string path = PathOf(hash);
        if (File.Exists(path)) return hash;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
        return hash;
    }

    public byte[] Read(string hash) =>
        Contains(hash) ? File.ReadAllBytes(PathOf(hash)) : throw new FileNotFoundException($"No stored image {hash}.");

    public void Delete(string hash)
    {
        if (Contains(hash)) File.Delete(PathOf(hash));
    }

    private string PathOf(string hash) => Path.Combine(_root, hash[..2], hash);

    private static bool IsHash(string hash) => hash.Length == 64 && hash.All(Uri.IsHexDigit);
}
