namespace DrWeb.Server.Platform.Database;

/// <summary>
/// An image held in the database by the <see cref="DatabaseImageStore"/>, keyed by the SHA-256 of its bytes, so that
/// nodes need nothing but the database. The bytes are written and read as streams, never through this class.
/// </summary>
public sealed class StoredImage
{
    public required string Sha256 { get; set; }

    public byte[] Content { get; set; } = [];

    public long Length { get; set; }

    public DateTimeOffset StoredUtc { get; set; } = DateTimeOffset.UtcNow;
}
