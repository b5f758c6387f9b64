//! Utilities to work with raw WebSocket frames.

pub mod coding;

#[allow(clippy::module_inception)]
mod frame;
mod mask;
mod utf8;

pub use self::{
    frame::{CloseFrame, Frame, FrameHeader},
    utf8::Utf8Bytes,
};

use crate::{
    error::{CapacityError, Error, ProtocolError, Result},
    protocol::frame::mask::apply_mask,
    Message,
};
use bytes::BytesMut;
use log::*;
use std::io::{self, Cursor, Error as IoError, ErrorKind as IoErrorKind, Read, Write};

/// Read buffer size used for `FrameSocket`.
const READ_BUF_LEN: usize = 128 * 1024;

/// PLENUM-PATCH: buffers that a message larger than this grew are given back afterwards.
const SHRINK_ABOVE: usize = 64 * 1024;

/// PLENUM-PATCH: the write buffer keeps at most this much capacity between writes, or the
/// configured write buffer size if that is larger (but never more than [`SHRINK_ABOVE`]).
const KEEP_AT_LEAST: usize = 4 * 1024;

/// PLENUM-PATCH: an unmasked payload larger than this is written from its own (shared) memory
/// instead of being copied into the connection's write buffer. A server that sends one large
/// event to thousands of connections then holds it once, not once per connection.
const SHARE_ABOVE: usize = 16 * 1024;

/// PLENUM-PATCH: how much of a shared payload is still copied behind its header, so that the
/// header does not go out as a tiny write (and, with `TCP_NODELAY`, a tiny packet) of its own.
const SHARED_PREFIX: usize = 4 * 1024;

/// A reader and writer for WebSocket frames.
#[derive(Debug)]
pub struct FrameSocket<Stream> {
    /// The underlying network stream.
    stream: Stream,
    /// Codec for reading/writing frames.
    codec: FrameCodec,
}

impl<Stream> FrameSocket<Stream> {
    /// Create a new frame socket.
    pub fn new(stream: Stream) -> Self {
        FrameSocket { stream, codec: FrameCodec::new(READ_BUF_LEN) }
    }

    /// Create a new frame socket from partially read data.
    pub fn from_partially_read(stream: Stream, part: Vec<u8>) -> Self {
        FrameSocket { stream, codec: FrameCodec::from_partially_read(part, READ_BUF_LEN) }
    }

    /// Extract a stream from the socket.
    pub fn into_inner(self) -> (Stream, BytesMut) {
        (self.stream, self.codec.in_buffer)
    }

    /// Returns a shared reference to the inner stream.
    pub fn get_ref(&self) -> &Stream {
        &self.stream
    }

    /// Returns a mutable reference to the inner stream.
    pub fn get_mut(&mut self) -> &mut Stream {
        &mut self.stream
    }
}

impl<Stream> FrameSocket<Stream>
where
    Stream: Read,
{
    /// Read a frame from stream.
    pub fn read(&mut self, max_size: Option<usize>) -> Result<Option<Frame>> {
        self.codec.read_frame(&mut self.stream, max_size, false, true)
    }
}

impl<Stream> FrameSocket<Stream>
where
    Stream: Write,
{
    /// Writes and immediately flushes a frame.
    /// Equivalent to calling [`write`](Self::write) then [`flush`](Self::flush).
    pub fn send(&mut self, frame: Frame) -> Result<()> {
        self.write(frame)?;
        self.flush()
    }

    /// Write a frame to stream.
    ///
    /// A subsequent call should be made to [`flush`](Self::flush) to flush writes.
    ///
    /// This function guarantees that the frame is queued unless [`Error::WriteBufferFull`]
    /// is returned.
    /// In order to handle WouldBlock or Incomplete, call [`flush`](Self::flush) afterwards.
    pub fn write(&mut self, frame: Frame) -> Result<()> {
        self.codec.buffer_frame(&mut self.stream, frame)
    }

    /// Flush writes.
    pub fn flush(&mut self) -> Result<()> {
        self.codec.write_out_buffer(&mut self.stream)?;
        Ok(self.stream.flush()?)
    }
}

/// A codec for WebSocket frames.
#[derive(Debug)]
pub(super) struct FrameCodec {
    /// Buffer to read data from the stream.
    in_buffer: BytesMut,
    in_buf_max_read: usize,
    /// PLENUM-PATCH: what goes out before `out_buffer`: copied headers and shared payloads,
    /// in order.
    out_chunks: std::collections::VecDeque<bytes::Bytes>,
    /// PLENUM-PATCH: the bytes in `out_chunks`.
    out_chunks_len: usize,
    /// Buffer to send packets to the network.
    out_buffer: Vec<u8>,
    /// Capacity limit for `out_buffer`.
    max_out_buffer_len: usize,
    /// Buffer target length to reach before writing to the stream
    /// on calls to `buffer_frame`.
    ///
    /// Setting this to non-zero will buffer small writes from hitting
    /// the stream.
    out_buffer_write_len: usize,
    /// Header and remaining size of the incoming packet being processed.
    header: Option<(FrameHeader, u64)>,
}

impl FrameCodec {
    /// Create a new frame codec.
    pub(super) fn new(in_buf_len: usize) -> Self {
        Self {
            in_buffer: BytesMut::with_capacity(in_buf_len),
            in_buf_max_read: in_buf_len.max(FrameHeader::MAX_SIZE),
            out_chunks: <_>::default(),
            out_chunks_len: 0,
            out_buffer: <_>::default(),
            max_out_buffer_len: usize::MAX,
            out_buffer_write_len: 0,
            header: None,
        }
    }

    /// Create a new frame codec from partially read data.
    pub(super) fn from_partially_read(part: Vec<u8>, min_in_buf_len: usize) -> Self {
        let mut in_buffer = BytesMut::from_iter(part);
        in_buffer.reserve(min_in_buf_len.saturating_sub(in_buffer.len()));
        Self {
            in_buffer,
            in_buf_max_read: min_in_buf_len.max(FrameHeader::MAX_SIZE),
            out_chunks: <_>::default(),
            out_chunks_len: 0,
            out_buffer: <_>::default(),
            max_out_buffer_len: usize::MAX,
            out_buffer_write_len: 0,
            header: None,
        }
    }

    /// Sets a maximum size for the out buffer.
    pub(super) fn set_max_out_buffer_len(&mut self, max: usize) {
        self.max_out_buffer_len = max;
    }

    /// Sets [`Self::buffer_frame`] buffer target length to reach before
    /// writing to the stream.
    pub(super) fn set_out_buffer_write_len(&mut self, len: usize) {
        self.out_buffer_write_len = len;
    }

    /// Read a frame from the provided stream.
    pub(super) fn read_frame(
        &mut self,
        stream: &mut impl Read,
        max_size: Option<usize>,
        unmask: bool,
        accept_unmasked: bool,
    ) -> Result<Option<Frame>> {
        let max_size = max_size.unwrap_or_else(usize::max_value);

        let mut payload = loop {
            if self.header.is_none() {
                let mut cursor = Cursor::new(&mut self.in_buffer);
                self.header = FrameHeader::parse(&mut cursor)?;
                let advanced = cursor.position();
                bytes::Buf::advance(&mut self.in_buffer, advanced as _);

                if let Some((_, len)) = &self.header {
                    let len = *len as usize;

                    // Enforce frame size limit early
                    if len > max_size {
                        return Err(Error::Capacity(CapacityError::MessageTooLong {
                            size: len,
                            max_size,
                        }));
                    }

                    // Reserve full message length only once, even for multiple
                    // loops or if WouldBlock errors cause multiple fn calls.
                    self.in_buffer.reserve(len);
                } else {
                    self.in_buffer.reserve(FrameHeader::MAX_SIZE);
                }
            }

            if let Some((_, len)) = &self.header {
                let len = *len as usize;
                if len <= self.in_buffer.len() {
                    let payload = self.in_buffer.split_to(len);
                    // PLENUM-PATCH: a large message is left as the only owner of the memory it
                    // was read into, so that it goes when the message goes; what followed it
                    // moves to a fresh buffer of the configured size.
                    if len > SHRINK_ABOVE {
                        let rest = self.in_buffer.split();
                        self.in_buffer = BytesMut::with_capacity(self.in_buf_max_read.max(rest.len()));
                        self.in_buffer.extend_from_slice(&rest);
                    }
                    break payload;
                }
            }

            // Not enough data in buffer.
            if self.read_in(stream)? == 0 {
                trace!("no frame received");
                return Ok(None);
            }
        };

        let (mut header, length) = self.header.take().expect("Bug: no frame header");
        debug_assert_eq!(payload.len() as u64, length);

        if unmask {
            if let Some(mask) = header.mask.take() {
                // A server MUST remove masking for data frames received from a client
                // as described in Section 5.3. (RFC 6455)
                apply_mask(&mut payload, mask);
            } else if !accept_unmasked {
                // The server MUST close the connection upon receiving a
                // frame that is not masked. (RFC 6455)
                // The only exception here is if the user explicitly accepts given
                // stream by setting WebSocketConfig.accept_unmasked_frames to true
                return Err(Error::Protocol(ProtocolError::UnmaskedFrameFromClient));
            }
        }

        let frame = Frame::from_payload(header, payload.freeze());
        trace!("received frame {frame}");
        Ok(Some(frame))
    }

    /// Read into available `in_buffer` capacity.
    fn read_in(&mut self, stream: &mut impl Read) -> io::Result<usize> {
        let len = self.in_buffer.len();
        debug_assert!(self.in_buffer.capacity() > len);
        self.in_buffer.resize(self.in_buffer.capacity().min(len + self.in_buf_max_read), 0);
        let size = stream.read(&mut self.in_buffer[len..]);
        self.in_buffer.truncate(len + size.as_ref().copied().unwrap_or(0));
        size
    }

    /// Writes a frame into the `out_buffer`.
    /// If the out buffer size is over the `out_buffer_write_len` will also write
    /// the out buffer into the provided `stream`.
    ///
    /// To ensure buffered frames are written call [`Self::write_out_buffer`].
    ///
    /// May write to the stream, will **not** flush.
    pub(super) fn buffer_frame<Stream>(&mut self, stream: &mut Stream, frame: Frame) -> Result<()>
    where
        Stream: Write,
    {
        let queued = self.out_chunks_len + self.out_buffer.len();
        if frame.len() + queued > self.max_out_buffer_len {
            return Err(Error::WriteBufferFull(Message::Frame(frame).into()));
        }

        trace!("writing frame {frame}");

        if frame.header().mask.is_none() && frame.payload().len() > SHARE_ABOVE {
            // PLENUM-PATCH: header and the payload's first bytes are copied, the rest is sent
            // from the payload's own memory.
            let (header, payload) = frame.into_parts();
            header.format(payload.len() as u64, &mut self.out_buffer)?;
            self.out_buffer.extend_from_slice(&payload[..SHARED_PREFIX]);
            let head = bytes::Bytes::from(std::mem::take(&mut self.out_buffer));
            let rest = payload.slice(SHARED_PREFIX..);
            self.out_chunks_len += head.len() + rest.len();
            self.out_chunks.push_back(head);
            self.out_chunks.push_back(rest);
        } else {
            self.out_buffer.reserve(frame.len());
            frame.format_into_buf(&mut self.out_buffer).expect("Bug: can't write to vector");
        }

        if self.out_chunks_len + self.out_buffer.len() > self.out_buffer_write_len {
            self.write_out_buffer(stream)
        } else {
            Ok(())
        }
    }

    /// PLENUM-PATCH: the write buffer capacity kept after a complete write.
    fn keep_out_capacity(&self) -> usize {
        self.out_buffer_write_len.max(KEEP_AT_LEAST).min(SHRINK_ABOVE)
    }

    /// Writes the out_buffer to the provided stream.
    ///
    /// Does **not** flush.
    pub(super) fn write_out_buffer<Stream>(&mut self, stream: &mut Stream) -> Result<()>
    where
        Stream: Write,
    {
        // PLENUM-PATCH: the chunks queued before the buffer go first.
        while let Some(chunk) = self.out_chunks.front_mut() {
            let len = stream.write(chunk)?;
            if len == 0 {
                return Err(IoError::new(
                    IoErrorKind::ConnectionReset,
                    "Connection reset while sending",
                )
                .into());
            }
            self.out_chunks_len -= len;
            if len == chunk.len() {
                self.out_chunks.pop_front();
            } else {
                bytes::Buf::advance(chunk, len);
            }
        }
        while !self.out_buffer.is_empty() {
            let len = stream.write(&self.out_buffer)?;
            if len == 0 {
                // This is the same as "Connection reset by peer"
                return Err(IoError::new(
                    IoErrorKind::ConnectionReset,
                    "Connection reset while sending",
                )
                .into());
            }
            self.out_buffer.drain(0..len);
        }
        // PLENUM-PATCH: give back what one large message, or a burst of small ones queued
        // behind each other, grew the buffer to: a live server holds thousands of connections,
        // and each kept its largest burst's size for good (8 KiB each after a burst of events
        // with a 4 KiB write buffer: 40 MB at 5,000 connections).
        if self.out_buffer.capacity() > self.keep_out_capacity() {
            self.out_buffer = Vec::new();
        }

        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use crate::error::{CapacityError, Error};

    use super::{Frame, FrameSocket};

    use std::io::Cursor;

    #[test]
    fn read_frames() {
        env_logger::init();

        let raw = Cursor::new(vec![
            0x82, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x82, 0x03, 0x03, 0x02, 0x01,
            0x99,
        ]);
        let mut sock = FrameSocket::new(raw);

        assert_eq!(
            sock.read(None).unwrap().unwrap().into_payload(),
            &[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07][..]
        );
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), &[0x03, 0x02, 0x01][..]);
        assert!(sock.read(None).unwrap().is_none());

        let (_, rest) = sock.into_inner();
        assert_eq!(rest, vec![0x99]);
    }

    #[test]
    fn from_partially_read() {
        let raw = Cursor::new(vec![0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        let mut sock = FrameSocket::from_partially_read(raw, vec![0x82, 0x07, 0x01]);
        assert_eq!(
            sock.read(None).unwrap().unwrap().into_payload(),
            &[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07][..]
        );
    }

    #[test]
    fn write_frames() {
        let mut sock = FrameSocket::new(Vec::new());

        let frame = Frame::ping(vec![0x04, 0x05]);
        sock.send(frame).unwrap();

        let frame = Frame::pong(vec![0x01]);
        sock.send(frame).unwrap();

        let (buf, _) = sock.into_inner();
        assert_eq!(buf, vec![0x89, 0x02, 0x04, 0x05, 0x8a, 0x01, 0x01]);
    }

    /// PLENUM-PATCH: a stream that takes at most `step` bytes per write and refuses every
    /// other write with `WouldBlock`, as a full socket does.
    struct Trickle {
        written: Vec<u8>,
        step: usize,
        calls: usize,
    }

    impl std::io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.step);
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn large_frames_go_out_whole_and_in_order_through_partial_writes() {
        use super::FrameCodec;
        use crate::protocol::frame::coding::{Data, OpCode};

        let large: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let shared = bytes::Bytes::from(large.clone());
        let frames = [
            Frame::message(bytes::Bytes::from_static(b"before"), OpCode::Data(Data::Text), true),
            Frame::message(shared.clone(), OpCode::Data(Data::Binary), true),
            Frame::message(bytes::Bytes::from_static(b"between"), OpCode::Data(Data::Text), true),
            Frame::message(shared.clone(), OpCode::Data(Data::Binary), true),
            Frame::message(bytes::Bytes::from_static(b"after"), OpCode::Data(Data::Text), true),
        ];
        let mut expected = Vec::new();
        for frame in frames.clone() {
            frame.format_into_buf(&mut expected).unwrap();
        }

        let mut codec = FrameCodec::new(4096);
        codec.set_out_buffer_write_len(4096);
        let mut stream = Trickle { written: Vec::new(), step: 7_000, calls: 0 };
        for frame in frames {
            loop {
                match codec.buffer_frame(&mut stream, frame.clone()) {
                    Ok(()) => break,
                    Err(Error::Io(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {
                        // The frame is queued; what would block is only the write.
                        break;
                    }
                    Err(err) => panic!("{err}"),
                }
            }
        }
        // The large payloads were not copied: the codec holds a reference to them.
        assert!(codec.out_chunks.iter().any(|chunk| chunk.as_ptr() > shared.as_ptr()
            && chunk.as_ptr() < shared.as_ptr().wrapping_add(shared.len())));
        while codec.out_chunks_len + codec.out_buffer.len() > 0 {
            match codec.write_out_buffer(&mut stream) {
                Ok(()) => {}
                Err(Error::Io(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(stream.written.len(), expected.len());
        assert!(stream.written == expected, "the bytes written differ from the frames");

        let mut sock = FrameSocket::new(Cursor::new(stream.written));
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), &b"before"[..]);
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), large);
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), &b"between"[..]);
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), large);
        assert_eq!(sock.read(None).unwrap().unwrap().into_payload(), &b"after"[..]);
    }

    /// PLENUM-PATCH: a burst of small frames grows the write buffer past the configured write
    /// buffer size; once written, that capacity is given back.
    #[test]
    fn a_burst_of_small_frames_gives_its_buffer_back() {
        use super::FrameCodec;
        use crate::protocol::frame::coding::{Data, OpCode};

        let mut codec = FrameCodec::new(4096);
        codec.set_out_buffer_write_len(4096);
        let mut written = Vec::new();
        let frame = Frame::message(
            bytes::Bytes::from(vec![b'x'; 1_000]),
            OpCode::Data(Data::Text),
            true,
        );
        for _ in 0..4 {
            // Under the write length: queued, not written.
            codec.buffer_frame(&mut written, frame.clone()).unwrap();
        }
        assert!(written.is_empty());
        assert!(codec.out_buffer.capacity() <= 4096 + 1_000);
        // The fifth frame passes the write length: everything is written, and the capacity the
        // burst grew the buffer to (over 4 KiB) is released.
        codec.buffer_frame(&mut written, frame.clone()).unwrap();
        assert_eq!(written.len(), 5 * (1_000 + 4));
        assert_eq!(codec.out_buffer.capacity(), 0);

        // A connection with the default 128 KiB write size keeps up to 64 KiB between writes.
        let mut codec = FrameCodec::new(4096);
        codec.set_out_buffer_write_len(128 * 1024);
        let mut written = Vec::new();
        for _ in 0..5 {
            codec.buffer_frame(&mut written, frame.clone()).unwrap();
        }
        codec.write_out_buffer(&mut written).unwrap();
        assert_eq!(written.len(), 5 * (1_000 + 4));
        assert!(codec.out_buffer.capacity() >= 5 * 1_004);
    }

    #[test]
    fn parse_overflow() {
        let raw = Cursor::new(vec![
            0x83, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
        ]);
        let mut sock = FrameSocket::new(raw);
        let _ = sock.read(None); // should not crash
    }

    #[test]
    fn size_limit_hit() {
        let raw = Cursor::new(vec![0x82, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        let mut sock = FrameSocket::new(raw);
        assert!(matches!(
            sock.read(Some(5)),
            Err(Error::Capacity(CapacityError::MessageTooLong { size: 7, max_size: 5 }))
        ));
    }
}
