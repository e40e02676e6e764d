using Microsoft.Data.Sqlite;

using SQLitePCL;

namespace Pochta.Storage.Sqlite;

/// <summary>One SQLite connection with a cache of prepared commands. Not thread-safe: the
/// writer owns one, each read lease owns one. Transactions are plain SQL (BEGIN/COMMIT) so
/// cached commands need no transaction object.</summary>
internal sealed class Db : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, sqlite3_stmt> _raw = new(StringComparer.Ordinal);

    private Db(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    public static Db Open(string path, bool writer)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ConnectionString);
        connection.Open();
        var db = new Db(connection);
        try
        {
            // WAL: readers never block the writer; synchronous=FULL: a COMMIT is fsynced.
            db.ExecRaw("PRAGMA busy_timeout = 30000");

            // Reads of pages in the database file (inline bodies above all: RETR, FETCH) come from a
            // shared memory map instead of one pread and copy per page per connection. Pages still
            // in the WAL are read as before.
            db.ExecRaw("PRAGMA mmap_size = 1073741824");
            if (writer)
            {
                db.ExecRaw("PRAGMA journal_mode = WAL");
                db.ExecRaw("PRAGMA synchronous = FULL");
                db.ExecRaw("PRAGMA foreign_keys = ON");

                // Statement journals (the per-operation SAVEPOINT copies every page it changes)
                // stay in memory instead of spilling to temp files.
                db.ExecRaw("PRAGMA temp_store = MEMORY");

                // Inline bodies make the WAL grow fast; give the space back after checkpoints.
                db.ExecRaw("PRAGMA journal_size_limit = 67108864");
            }
            else
            {
                db.ExecRaw("PRAGMA query_only = ON");
            }
        }
        catch
        {
            db.Dispose();
            throw;
        }

        return db;
    }

    public void ExecRaw(string sql)
    {
        using var command = Connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public SqliteCommand Prepare(string sql, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }

        command.Parameters.Clear();
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>A prepared statement used through SQLitePCL directly (hot paths that read a
    /// value in place, without the ADO.NET layer's copies and allocations). The caller binds,
    /// steps and always resets it before the connection is used for anything else.</summary>
    public sqlite3_stmt Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var stmt))
        {
            var rc = raw.sqlite3_prepare_v2(Connection.Handle, sql, out stmt);
            SqliteException.ThrowExceptionForRC(rc, Connection.Handle);
            _raw[sql] = stmt;
        }

        return stmt;
    }

    public int Exec(string sql, params ReadOnlySpan<(string Name, object? Value)> args) =>
        Prepare(sql, args).ExecuteNonQuery();

    public object? Scalar(string sql, params ReadOnlySpan<(string Name, object? Value)> args)
    {
        var value = Prepare(sql, args).ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public long Long(string sql, params ReadOnlySpan<(string Name, object? Value)> args) =>
        Scalar(sql, args) is { } v ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0;

    public SqliteDataReader Query(string sql, params ReadOnlySpan<(string Name, object? Value)> args) =>
        Prepare(sql, args).ExecuteReader();

    /// <summary>Runs several reads on one consistent WAL snapshot.</summary>
    public T Snapshot<T>(Func<Db, T> read)
    {
        Exec("BEGIN");
        try
        {
            return read(this);
        }
        finally
        {
            Exec("COMMIT");
        }
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        foreach (var stmt in _raw.Values)
        {
            stmt.Dispose();
        }

        _raw.Clear();
        Connection.Dispose();
    }
}