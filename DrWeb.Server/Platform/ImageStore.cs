using System.Security.Cryptography;

namespace DrWeb.Server.Platform;

/// <summary>
/// Stores bytes under their SHA-256, so an image uploaded twice is kept once and recognised. Two places to keep them:
/// a folder (<see cref="FolderImageStore"/>, for one node or several sharing a mount) or the database
/// (<see cref="DatabaseImageStore"/>, so that nodes need nothing but the database); <c>DrWeb:Database:ImageStore</c> chooses.
/// </summary>
public interface IImageStore
{
    static string HashOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    static bool IsHash(string hash) => hash.Length == 64 && hash.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    bool Contains(string hash);

    /// <summary>Saves the bytes if they are new; returns their hash.</summary>
    string Save(byte[] bytes);

    /// <summary>The stored bytes; <see cref="FileNotFoundException"/> when there are none under that hash.</summary>
    byte[] Read(string hash);

    /// <summary>The stored bytes as a stream the caller disposes, or null when there are none under that hash.</summary>
    Stream? OpenRead(string hash);

    void Delete(string hash);

    /// <summary>Every stored hash, for moving an installation and checking it.</summary>
    IEnumerable<string> Hashes();
}

/// <summary>
/// The content-addressed folder <c>images/ab/abcdef...</c> in the data folder. Files are written to a temporary name and
/// renamed, so a crash never leaves half a file under a valid name, and two nodes sharing the folder may both write.
/// </summary>
public sealed class FolderImageStore(DataFolder data) : IImageStore
{
    private readonly string _root = data.Sub("images");

    public bool Contains(string hash) => IImageStore.IsHash(hash) && File.Exists(PathOf(hash));

    public string Save(byte[] bytes)
    {
        string hash = IImageStore.HashOf(bytes);
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

    public Stream? OpenRead(string hash) => Contains(hash) ? File.OpenRead(PathOf(hash)) : null;

    public void Delete(string hash)
    {
        if (Contains(hash)) File.Delete(PathOf(hash));
    }

    public IEnumerable<string> Hashes() =>
        Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).OfType<string>().Where(IImageStore.IsHash);

    private string PathOf(string hash) => Path.Combine(_root, hash[..2], hash);
}
