using System.Data;
using System.Data.Common;
using DrWeb.Server.Platform.Database;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Platform;

/// <summary>
/// Images as rows of <c>StoredImages</c> (PostgreSQL <c>bytea</c>), keyed by SHA-256. Reads stream the column
/// (sequential access), so serving an image does not hold a second copy; an insert of a hash already present does
/// nothing, so nodes saving the same upload at once agree. Plain SQL that both providers understand.
/// </summary>
public sealed class DatabaseImageStore(IDbContextFactory<DrWebDbContext> dbFactory) : IImageStore
{
    private const string Table = "\"StoredImages\"";

    public bool Contains(string hash)
    {
        if (!IImageStore.IsHash(hash)) return false;
        using var db = dbFactory.CreateDbContext();
        using var command = Command(db, $"SELECT 1 FROM {Table} WHERE \"Sha256\" = @hash", ("hash", hash));
        return command.ExecuteScalar() is not null;
    }

    public string Save(byte[] bytes)
    {
        string hash = IImageStore.HashOf(bytes);
        using var db = dbFactory.CreateDbContext();
        using var command = Command(db,
            $"INSERT INTO {Table} (\"Sha256\", \"Content\", \"Length\", \"StoredUtc\") VALUES (@hash, @content, @length, @stored) ON CONFLICT DO NOTHING",
            ("hash", hash), ("content", bytes), ("length", (long)bytes.Length), ("stored", DateTimeOffset.UtcNow.UtcTicks));
        command.ExecuteNonQuery();
        return hash;
    }

    public byte[] Read(string hash)
    {
        using var stream = OpenRead(hash) ?? throw new FileNotFoundException($"No stored image {hash}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public Stream? OpenRead(string hash)
    {
        if (!IImageStore.IsHash(hash)) return null;
        var db = dbFactory.CreateDbContext();
        try
        {
            var command = Command(db, $"SELECT \"Content\" FROM {Table} WHERE \"Sha256\" = @hash", ("hash", hash));
            var reader = command.ExecuteReader(CommandBehavior.SequentialAccess | CommandBehavior.SingleRow);
            if (!reader.Read())
            {
                reader.Dispose();
                command.Dispose();
                db.Dispose();
                return null;
            }
            return new OwningStream(reader.GetStream(0), reader, command, db);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public void Delete(string hash)
    {
        if (!IImageStore.IsHash(hash)) return;
        using var db = dbFactory.CreateDbContext();
        using var command = Command(db, $"DELETE FROM {Table} WHERE \"Sha256\" = @hash", ("hash", hash));
        command.ExecuteNonQuery();
    }

    public IEnumerable<string> Hashes()
    {
        using var db = dbFactory.CreateDbContext();
        return db.StoredImages.AsNoTracking().OrderBy(i => i.Sha256).Select(i => i.Sha256).ToList();
    }

    private static DbCommand Command(DrWebDbContext db, string sql, params (string Name, object Value)[] parameters)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != ConnectionState.Open) connection.Open();
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>The column's stream, which keeps its reader, command and connection open until it is disposed.</summary>
    private sealed class OwningStream(Stream inner, params IDisposable[] owners) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken token = default) => inner.ReadAsync(buffer, token);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) => inner.ReadAsync(buffer, offset, count, token);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                foreach (var owner in owners) owner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
