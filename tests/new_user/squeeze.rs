//! A new user's program: compresses FILE into FILE.z with the 32-bit zlib, decompresses it
//! again and checks the round trip.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: squeeze FILE")?;
    let data = std::fs::read(&path)?;
    let z = zlib_client::Zlib::new();
    let bound = z.compressBound(u32::try_from(data.len())?)?;
    let (code, packed) = z.compress2(bound as usize, &data, 9)?;
    if code != 0 {
        return Err(format!("compress2 returned {code}").into());
    }
    std::fs::write(format!("{path}.z"), &packed)?;
    let (code, unpacked) = z.uncompress(data.len(), &packed)?;
    if code != 0 || unpacked != data {
        return Err(format!("uncompress returned {code}; the round trip differs").into());
    }
    println!("zlib {}: {} bytes, {} packed, equal after the round trip", z.zlibVersion()?, data.len(), packed.len());
    Ok(())
}
