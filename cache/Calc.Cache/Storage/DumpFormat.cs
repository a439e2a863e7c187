using System.Buffers;
using System.Buffers.Binary;

namespace Calc.Cache.Storage;

/// <summary>
/// DUMP/RESTORE payloads in Calc.Cache's own format (not Redis's RDB; neither server accepts the other's). Laid out as
/// Redis lays out its own, so a Redis payload fails our version check and ours fails Redis's:
/// <c>type(1) body version(2, little-endian) crc64(8, little-endian, of everything before it)</c>.
/// Types: 0 string, 1 list, 2 set, 3 sorted set, 4 hash. Body: a string is <c>len bytes</c>; a collection is
/// <c>count</c> then its elements (<c>len bytes</c> each; a sorted set member is followed by its score as an IEEE 754
/// double, 8 bytes little-endian; a hash field by its value). Lengths and counts are unsigned LEB128.
/// </summary>
internal static class DumpFormat
{
    /// <summary>Ours: far above any RDB version Redis writes (7.x: 10-11), so a Redis payload here is refused.</summary>
    public const ushort Version = 0xCA01;

    private const byte StringType = 0;
    private const byte ListType = 1;
    private const byte SetType = 2;
    private const byte SortedSetType = 3;
    private const byte HashType = 4;

    private const int TrailerLength = 2 + 8;

    public static byte[] Serialize(object value)
    {
        var output = new ArrayBufferWriter<byte>();
        switch (value)
        {
            case byte[] bytes:
                output.Write([StringType]);
                WriteBytes(output, bytes);
                break;
            case ListValue list:
                output.Write([ListType]);
                WriteLength(output, (ulong)list.Count);
                for (var i = 0; i < list.Count; i++)
                {
                    WriteBytes(output, list[i]);
                }

                break;
            case SetValue set:
                output.Write([SetType]);
                WriteLength(output, (ulong)set.Count);
                foreach (var member in set)
                {
                    WriteBytes(output, member);
                }

                break;
            case SortedSetValue zset:
                output.Write([SortedSetType]);
                WriteLength(output, (ulong)zset.Count);
                for (var i = 0; i < zset.Count; i++)
                {
                    var item = zset.Dense(i);
                    WriteBytes(output, item.Member);
                    BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), item.Score);
                    output.Advance(8);
                }

                break;
            case HashValue hash:
                output.Write([HashType]);
                WriteLength(output, (ulong)hash.Count);
                foreach (var (field, fieldValue) in hash.Fields)
                {
                    WriteBytes(output, field);
                    WriteBytes(output, fieldValue);
                }

                break;
            default:
                throw new InvalidOperationException($"DUMP of an unknown value type {value.GetType().Name}");
        }

        BinaryPrimitives.WriteUInt16LittleEndian(output.GetSpan(2), Version);
        output.Advance(2);
        var crc = Crc64.Compute(output.WrittenSpan);
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), crc);
        output.Advance(8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Redis's verifyDumpPayload: the trailer's version is ours and the checksum matches.</summary>
    public static bool Verify(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1 + TrailerLength)
        {
            return false;
        }

        var body = payload[..^8];
        return BinaryPrimitives.ReadUInt16LittleEndian(payload[^TrailerLength..]) == Version
            && BinaryPrimitives.ReadUInt64LittleEndian(payload[^8..]) == Crc64.Compute(body);
    }

    /// <summary>The value of a verified payload; null when its body is malformed ("Bad data format").</summary>
    public static object? Deserialize(ReadOnlySpan<byte> payload, int maxElementBytes)
    {
        var reader = new Reader(payload[..^TrailerLength], maxElementBytes);
        if (!reader.TryByte(out var type))
        {
            return null;
        }

        object? value = type switch
        {
            StringType => reader.TryBytes(out var bytes) ? bytes : null,
            ListType => ReadList(ref reader),
            SetType => ReadSet(ref reader),
            SortedSetType => ReadSortedSet(ref reader),
            HashType => ReadHash(ref reader),
            _ => null,
        };
        return reader.AtEnd ? value : null;
    }

    private static ListValue? ReadList(ref Reader reader)
    {
        if (!reader.TryCount(out var count))
        {
            return null;
        }

        var list = new ListValue();
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryBytes(out var item))
            {
                return null;
            }

            list.PushRight(item);
        }

        return list;
    }

    private static SetValue? ReadSet(ref Reader reader)
    {
        if (!reader.TryCount(out var count))
        {
            return null;
        }

        var set = new SetValue();
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryBytes(out var member) || !set.Add(member))
            {
                return null; // a duplicate member is bad data, as in Redis
            }
        }

        return set;
    }

    private static SortedSetValue? ReadSortedSet(ref Reader reader)
    {
        if (!reader.TryCount(out var count))
        {
            return null;
        }

        var zset = new SortedSetValue();
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryBytes(out var member) || !reader.TryDouble(out var score) || double.IsNaN(score) || !zset.Set(member, score))
            {
                return null;
            }
        }

        return zset;
    }

    private static HashValue? ReadHash(ref Reader reader)
    {
        if (!reader.TryCount(out var count))
        {
            return null;
        }

        var hash = new HashValue();
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryBytes(out var field) || !reader.TryBytes(out var value) || !hash.Set(field, value))
            {
                return null;
            }
        }

        return hash;
    }

    private static void WriteBytes(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteLength(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteLength(ArrayBufferWriter<byte> output, ulong length)
    {
        var span = output.GetSpan(10);
        var n = 0;
        while (length >= 0x80)
        {
            span[n++] = (byte)(length | 0x80);
            length >>= 7;
        }

        span[n++] = (byte)length;
        output.Advance(n);
    }

    /// <summary>Reads a payload body; every length is checked against what is left, so a bad length cannot allocate.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data, int maxElementBytes)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public bool TryByte(out byte value)
        {
            value = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        /// <summary>A non-empty collection's count (Redis never stores an empty one), at most one element per byte left.</summary>
        public bool TryCount(out int count)
        {
            count = 0;
            if (!TryLength(out var length) || length == 0 || length > (ulong)_rest.Length)
            {
                return false;
            }

            count = (int)length;
            return true;
        }

        public bool TryBytes(out byte[] bytes)
        {
            bytes = [];
            if (!TryLength(out var length) || length > (ulong)_rest.Length || length > (ulong)maxElementBytes)
            {
                return false;
            }

            bytes = _rest[..(int)length].ToArray();
            _rest = _rest[(int)length..];
            return true;
        }

        public bool TryDouble(out double value)
        {
            value = 0;
            if (_rest.Length < 8)
            {
                return false;
            }

            value = BinaryPrimitives.ReadDoubleLittleEndian(_rest);
            _rest = _rest[8..];
            return true;
        }

        private bool TryLength(out ulong length)
        {
            length = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (!TryByte(out var b))
                {
                    return false;
                }

                length |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>CRC-64/XZ (ECMA-182 polynomial, reflected), table-driven; the DUMP payload's checksum.</summary>
internal static class Crc64
{
    private const ulong Polynomial = 0xC96C5795D7870F42;
    private static readonly ulong[] Table = BuildTable();

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        var crc = ulong.MaxValue;
        foreach (var b in data)
        {
            crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            table[i] = crc;
        }

        return table;
    }
}
