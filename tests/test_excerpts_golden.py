"""Golden files: three long Indonesian reports cut in every mode, reviewed once by eye.

    REPORTS x VARIANTS | make_excerpts | _describe -> tests/golden/excerpts/<report>.<variant>.txt

Run with UPDATE_GOLDEN=1 to rewrite the files after an intended change, then read the diff.
The same reports also go through the excerpt invariants under many random settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siarkan.articles.model import Article
from siarkan.config import ExcerptSettings
from siarkan.excerpts import Excerpt, make_excerpts, mastodon_length, story_paragraphs

GOLDEN = Path(__file__).parent / "golden" / "excerpts"
# EXCERPT_EXAMPLES=5000 for a long hunt before a release; the default keeps `pytest` quick.
EXAMPLES = int(os.environ.get("EXCERPT_EXAMPLES", "150"))
PERMALINK = "https://siarkan.prologmedia.example.id/artikel/{slug}"

# --- the reports ------------------------------------------------------------------------------

JALAN = Article(
    id="jalan-serang-2025",
    slug="pemkab-serang-siapkan-rp1-5-triliun-perbaikan-jalan",
    title="Pemkab Serang Siapkan Rp1,5 Triliun untuk Perbaikan 54 Ruas Jalan Rusak",
    dateline="SERANG, PROLOGMEDIA",
    tags=("Kabupaten Serang", "infrastruktur", "jalan rusak", "kabupaten serang", "2025"),
    section="Banten",
    body_html="",
    paragraphs=(
        "Pemerintah Kabupaten Serang menyiapkan anggaran Rp1,5 triliun untuk memperbaiki 54 "
        "ruas jalan rusak sepanjang 120 km pada 2025. Program itu diumumkan Bupati Serang, "
        "Hj. Ratu Tatu Chasanah, di Pendopo Bupati, Jl. Veteran No. 1, Kota Serang, Senin "
        "(24/11/2025) pukul 12.30 WIB.",
        "“Kami ingin jalan di seluruh kecamatan mulus sebelum Lebaran. Ini janji kami kepada "
        "masyarakat, dan kami akan menagihnya sendiri kepada dinas,” kata Tatu kepada wartawan "
        "usai rapat paripurna DPRD yang ke-54 tahun ini.",
        "Menurut Kepala Dinas Pekerjaan Umum dan Penataan Ruang (PUPR) Kab. Serang, Ir. H. "
        "Dadang Sudrajat, M.Si., kerusakan terparah berada di Kec. Ciruas, Kec. Kragilan, dan "
        "Kec. Pontang. Kerusakan itu, kata dia, disebabkan truk bermuatan lebih dari 30 ton "
        "yang melintas setiap hari; drainase yang buruk juga memperparah kondisi jalan saat "
        "musim hujan.",
        "Anggaran tersebut naik 3,5 persen dibanding tahun lalu. Sebagian dana, yakni Rp250 "
        "miliar, berasal dari bantuan keuangan Provinsi Banten, sedangkan sisanya dari APBD "
        "murni dan pinjaman daerah melalui PT Sarana Multi Infrastruktur (Persero).",
        "Dadang menjelaskan, pengerjaan dibagi menjadi tiga tahap. Tahap pertama dimulai "
        "Januari dan menyasar 18 ruas jalan poros kecamatan. Tahap kedua, April hingga Juni, "
        "menyasar jalan penghubung antardesa. Tahap ketiga dijadwalkan rampung pada November.",
        "“Kami sudah belajar dari pengalaman. Kontraktor yang pekerjaannya buruk tahun lalu "
        "sudah kami masukkan daftar hitam. Tidak ada kompromi untuk mutu beton dan aspal. Kalau "
        "ketebalannya kurang satu sentimeter saja, kami minta bongkar,” ujar Dadang.",
        "Pengamat kebijakan publik dari Universitas Sultan Ageng Tirtayasa (Untirta), Prof. Dr. "
        "Ahmad Sururi, S.Sos., M.Si., menilai langkah itu tepat. Namun ia mengingatkan agar "
        "pengerjaan diawasi ketat. “Jangan sampai jalan yang baru diperbaiki rusak lagi dalam "
        "tiga bulan. Itu sering terjadi,” ujarnya.",
        "Sururi juga menyoroti pengawasan muatan truk. Menurut dia, tanpa jembatan timbang yang "
        "berfungsi di pintu masuk kawasan industri Cikande dan Kragilan, perbaikan jalan hanya "
        "akan menjadi proyek tahunan yang menghabiskan anggaran tanpa menyelesaikan akar "
        "masalah, terutama karena jumlah truk yang melintas terus bertambah seiring "
        "pertumbuhan pabrik baru di wilayah utara kabupaten.",
        "Data Dinas Perhubungan mencatat rata-rata 4.200 truk melintas di Jalan Raya Serang–"
        "Jakarta setiap hari, dengan 38 persen di antaranya bermuatan lebih. Angka itu naik "
        "dari 3.100 truk pada 2022.",
        "Kepala Dinas Perhubungan Kab. Serang, Drs. Hj. Nurhasanah, M.M., mengatakan pihaknya "
        "akan mengoperasikan kembali jembatan timbang di Kec. Cikande mulai Maret. Petugas "
        "gabungan dari Dishub, Satlantas Polres Serang, dan Balai Pengelola Transportasi Darat "
        "akan berjaga 24 jam.",
        "Di lapangan, warga menyambut baik rencana itu. H. Mahmud (54), warga Desa Kemanisan, "
        "Kec. Tirtayasa, mengatakan selama ini warga harus menempuh perjalanan dua jam ke pusat "
        "kota karena jalan berlubang. “Kalau hujan, anak-anak sekolah harus lepas sepatu. "
        "Motor sering mogok di tengah genangan,” katanya.",
        "Keluhan serupa disampaikan Siti Rohmah (37), pedagang sayur di Pasar Kragilan. Ia "
        "mengaku ongkos angkut sayur dari Pontang naik dari Rp50.000 menjadi Rp80.000 sekali "
        "jalan karena sopir enggan melintas. “Yang rugi kami juga, harga jual tidak bisa "
        "dinaikkan seenaknya,” ujarnya.",
        "Ketua Komisi III DPRD Kab. Serang, Ahmad Zaini, S.H., M.H., meminta pemerintah daerah "
        "membuka data kontrak secara daring. Menurut dia, keterbukaan akan memudahkan warga "
        "ikut mengawasi. Data itu, kata dia, bisa diunggah di laman resmi pemerintah "
        "kabupaten, lengkap dengan nama kontraktor, nilai kontrak, dan jadwal pengerjaan.",
        "Menanggapi hal itu, Tatu menyatakan setuju. Ia menyebut daftar paket pekerjaan akan "
        "diumumkan melalui Layanan Pengadaan Secara Elektronik (LPSE) paling lambat akhir "
        "Desember. Warga juga dapat melapor kerusakan melalui aplikasi Serang Melapor, yang "
        "kini memiliki lebih dari 12.000 pengguna aktif.",
        "Selain jalan, pemerintah kabupaten menganggarkan Rp75 miliar untuk perbaikan 22 "
        "jembatan. Tiga di antaranya, yakni jembatan di Desa Tengkurak, Desa Lontar, dan Desa "
        "Susukan, dinilai kritis karena fondasinya tergerus arus Sungai Ciujung.",
        "Sebelumnya, pada 2024 pemerintah kabupaten hanya mampu memperbaiki 21 ruas jalan "
        "dengan anggaran Rp612 miliar. Menurut Dadang, kenaikan anggaran tahun ini dimungkinkan "
        "karena pendapatan asli daerah dari sektor industri naik 11,2 persen, terutama dari "
        "pajak penerangan jalan dan retribusi perizinan.",
        "Untuk mempercepat pekerjaan, Dinas PUPR akan memakai metode beton pracetak pada ruas "
        "yang dilalui kendaraan berat. Metode itu, kata dia, memangkas waktu pengerjaan dari "
        "enam pekan menjadi dua pekan per kilometer sehingga arus lalu lintas tidak terlalu "
        "lama terganggu.",
        "Selama pengerjaan, pengguna jalan diminta memakai jalur alternatif. Dishub menyiapkan "
        "rekayasa lalu lintas di simpang Ciruas dan simpang Kragilan pada pukul 06.00–09.00 "
        "WIB dan 16.00–19.00 WIB, saat arus kendaraan karyawan pabrik mencapai puncaknya.",
        "Asosiasi Pengusaha Indonesia (Apindo) Kab. Serang menyambut baik program itu. Ketua "
        "Apindo Kab. Serang, Ir. Bambang Hermawan, menyebut jalan rusak membuat biaya logistik "
        "anggota naik hingga 15 persen. “Kami siap mendukung, termasuk mematuhi aturan batas "
        "muatan. Tapi aturannya harus berlaku untuk semua, tanpa tebang pilih,” ujarnya.",
        "Ia berharap pemerintah daerah juga membangun jalan khusus industri yang memisahkan "
        "truk dari kendaraan warga. Usulan itu, menurut Bambang, sudah disampaikan sejak 2019 "
        "tetapi belum masuk rencana pembangunan jangka menengah daerah.",
        "Menanggapi usulan tersebut, Kepala Badan Perencanaan Pembangunan Daerah (Bappeda) "
        "Kab. Serang, Dr. Hj. Sri Wahyuni, M.Si., mengatakan studi kelayakan jalan khusus "
        "industri sepanjang 27 km telah rampung. Biayanya diperkirakan Rp2,1 triliun sehingga "
        "pemerintah kabupaten akan mengajukan skema kerja sama dengan badan usaha.",
        "Di tingkat desa, sejumlah kepala desa meminta agar jalan lingkungan tidak dilupakan. "
        "Kepala Desa Lontar, Kec. Tirtayasa, Sukarna, menyebut dana desa hanya cukup untuk "
        "memperbaiki 800 meter jalan setiap tahun, padahal panjang jalan lingkungan di desanya "
        "mencapai 9 km.",
        "Tatu menyatakan pemerintah kabupaten akan menambah bantuan keuangan untuk desa sebesar "
        "Rp150 juta per desa khusus untuk jalan lingkungan. Bantuan itu akan disalurkan kepada "
        "326 desa mulai triwulan kedua 2025 dengan syarat pengerjaannya melibatkan warga "
        "setempat melalui program padat karya.",
        "Program perbaikan jalan juga akan diikuti pemasangan 1.800 titik penerangan jalan "
        "umum bertenaga surya di ruas yang rawan kecelakaan. Satlantas Polres Serang mencatat "
        "143 kecelakaan lalu lintas sepanjang 2024 di jalan kabupaten, 31 di antaranya "
        "menyebabkan korban meninggal dunia.",
        "Kasat Lantas Polres Serang, AKP Dimas Prasetyo, S.I.K., mengatakan sebagian besar "
        "kecelakaan terjadi pada malam hari di ruas yang gelap dan berlubang. “Pengendara "
        "motor menghindari lubang lalu tertabrak kendaraan dari arah berlawanan. Pola ini "
        "terus berulang,” ujarnya.",
        "Ia meminta pengendara tetap berhati-hati selama masa pengerjaan, terutama di ruas "
        "yang dipasangi rambu penyempitan jalan, dan mematuhi arahan petugas di lapangan.",
        "Hingga berita ini ditulis, Dinas PUPR masih menyusun dokumen lelang. Dadang memastikan "
        "proses lelang dimulai pekan depan dan dapat dipantau publik. (fai/idh)",
    ),
)

BANJIR = Article(
    id="banjir-lebak-2025",
    slug="banjir-bandang-terjang-lebak-1-250-warga-mengungsi",
    title="Banjir Bandang Terjang Lebak, 1.250 Warga Mengungsi dan Dua Jembatan Putus",
    dateline="LEBAK, PROLOGMEDIA",
    tags=("banjir", "Lebak", "BPBD", "cuaca ekstrem"),
    section="Banten",
    canonical_url="https://www.prologmedia.example.co.id/banten/2025/12/01/banjir-bandang-lebak",
    body_html="",
    paragraphs=(
        "Banjir bandang menerjang enam kecamatan di Kabupaten Lebak, Banten, Minggu "
        "(30/11/2025) dini hari. Sedikitnya 1.250 warga mengungsi, dua jembatan gantung putus, "
        "dan ratusan hektare sawah terendam lumpur setinggi 40 cm.",
        "Kepala Pelaksana Badan Penanggulangan Bencana Daerah (BPBD) Kab. Lebak, H. Febby "
        "Rizki Pratama, S.STP., M.Si., mengatakan air mulai naik sekitar pukul 02.15 WIB "
        "setelah hujan deras mengguyur kawasan hulu Sungai Ciberang selama lebih dari enam "
        "jam. “Debitnya naik sangat cepat. Dalam setengah jam, air sudah masuk ke rumah warga "
        "di bantaran. Kami langsung mengerahkan tim reaksi cepat,” kata Febby.",
        "Kecamatan yang terdampak meliputi Lebakgedong, Cipanas, Sajira, Curugbitung, "
        "Maja, dan Rangkasbitung, dengan desa terparah di antaranya Desa Banjarsari, Desa "
        "Lebaksangka, Desa Ciladaeun, Desa Lebakgedong, Desa Sajira Mekar, Desa Calungbungur, "
        "dan Desa Pasir Tanjung, tempat arus deras menghanyutkan sedikitnya 14 rumah semi "
        "permanen beserta ternak warga yang dikandangkan di tepi sungai pada malam hari.",
        "Baca Juga:",
        "Hujan Deras Sepekan, BMKG Keluarkan Peringatan Dini untuk Banten Selatan",
        "Hingga Minggu sore, tidak ada korban jiwa yang dilaporkan. Namun tujuh warga mengalami "
        "luka ringan dan dirawat di Puskesmas Sajira. dr. Lina Marlina, kepala puskesmas, "
        "menyebut sebagian besar pasien terluka karena terpeleset saat menyelamatkan barang.",
        "Para pengungsi ditampung di 11 titik, antara lain Masjid Jami Al-Hidayah, SDN 1 "
        "Lebaksangka, dan kantor Kec. Sajira. Dinas Sosial mendirikan dapur umum yang "
        "menyediakan 3.750 porsi makanan per hari.",
        "Siti Aminah (42), warga Desa Banjarsari, mengaku hanya sempat menyelamatkan dokumen "
        "dan pakaian di badan. “Air datang seperti tembok, suaranya bergemuruh. Saya bangunkan "
        "anak-anak, kami lari ke bukit. Rumah saya sekarang tinggal fondasi,” ujarnya sambil "
        "menahan tangis.",
        "Kepala Stasiun Klimatologi BMKG Banten, Dr. Ir. Hartono Wibisono, M.Sc., menyebut "
        "curah hujan di hulu Ciberang mencapai 187 mm dalam sehari, tergolong ekstrem. Ia "
        "memperkirakan hujan dengan intensitas sedang hingga lebat masih berpotensi terjadi "
        "hingga 7 Desember. Masyarakat dapat memantau peringatan dini melalui "
        "https://www.bmkg.go.id/cuaca/peringatan-dini-cuaca.bmkg?prov=36&lang=ID dan kanal "
        "resmi BPBD.",
        "Menurut Hartono, fenomena La Nina lemah dan suhu muka laut di Samudra Hindia yang "
        "lebih hangat 0,5 hingga 1,5 derajat Celsius dari normal membuat pembentukan awan "
        "hujan lebih intensif. “Kondisi ini bukan hanya di Lebak. Seluruh Banten bagian "
        "selatan perlu waspada, terutama wilayah yang berada di lereng dan bantaran sungai,” "
        "ujarnya.",
        "Pemerintah Kabupaten Lebak menetapkan status tanggap darurat selama 14 hari. Bupati "
        "Lebak, Hj. Iti Octavia Jayabaya, S.E., M.M., mengatakan anggaran belanja tidak terduga "
        "sebesar Rp3,2 miliar disiapkan untuk logistik, perahu karet, dan perbaikan darurat "
        "jembatan.",
        "Dua jembatan gantung yang putus menghubungkan Desa Lebaksangka dengan Desa Ciladaeun "
        "serta Desa Sajira Mekar dengan pusat kecamatan. Akibatnya, sekitar 600 kepala keluarga "
        "terisolasi dan harus memutar sejauh 18 km melalui jalan tanah.",
        "“Untuk sementara kami pasang jembatan darurat dari bambu dan tali baja. Itu hanya "
        "untuk pejalan kaki. Kendaraan roda dua belum bisa lewat. Kami minta warga bersabar, "
        "pembangunan jembatan permanen butuh waktu,” kata Kepala Dinas PUPR Lebak, Ir. Irvan "
        "Suyatupika, M.T.",
        "Pegiat lingkungan dari Walhi Banten menilai banjir bandang di Lebak tidak bisa "
        "dilepaskan dari maraknya tambang emas tanpa izin di kawasan Taman Nasional Gunung "
        "Halimun Salak. Menurut catatan mereka, terdapat lebih dari 200 lubang tambang ilegal "
        "di hulu Ciberang dan Cidurian.",
        "Kapolres Lebak, AKBP Herfio Zaki, S.I.K., M.H., menyatakan akan menindak tegas "
        "penambang liar. Dalam dua tahun terakhir, Polres Lebak telah menetapkan 37 tersangka "
        "dan menyita 12 unit mesin gelondong. Penindakan, kata dia, akan dilakukan bersama "
        "Balai TNGHS dan TNI.",
        "Sementara itu, bantuan terus berdatangan. PT Cemindo Gemilang Tbk. menyalurkan 2.000 "
        "paket sembako, sedangkan Palang Merah Indonesia mengirim tiga truk air bersih dan "
        "1.500 selimut. Relawan dari berbagai daerah juga mulai berdatangan ke posko utama di "
        "alun-alun Rangkasbitung.",
        "Di Desa Lebaksangka, air surut pada Minggu siang dan meninggalkan lumpur setebal "
        "hingga 50 cm di dalam rumah. Warga bersama relawan, anggota TNI dari Kodim 0603/Lebak, "
        "dan personel Polres Lebak bergotong royong membersihkan rumah, masjid, dan sekolah.",
        "Kepala SDN 1 Lebaksangka, Dra. Hj. Euis Komariah, mengatakan kegiatan belajar mengajar "
        "dihentikan sementara karena ruang kelas dipakai untuk pengungsian dan sebagian buku "
        "rusak terendam. Ia berharap sekolah bisa kembali dibuka paling lambat Senin pekan "
        "depan.",
        "Dinas Pertanian mencatat sedikitnya 428 hektare sawah yang baru ditanami terendam "
        "lumpur. Kepala Dinas Pertanian Lebak, Ir. Rahmat Yuniar, M.Si., memperkirakan "
        "kerugian petani mencapai Rp6,4 miliar. Pemerintah akan mengajukan klaim asuransi "
        "usaha tani padi bagi petani yang terdaftar.",
        "“Benih pengganti sudah kami siapkan sebanyak 12 ton. Kami juga koordinasi dengan "
        "Kementerian Pertanian untuk bantuan pupuk. Yang penting petani bisa tanam lagi "
        "secepatnya,” kata Rahmat.",
        "Di pengungsian, kebutuhan yang paling mendesak adalah popok bayi, susu, pembalut, dan "
        "air bersih. Koordinator posko Desa Banjarsari, Dedi Mulyadi (38), menyebut terdapat 46 "
        "balita dan 19 lansia di posko yang dikelolanya. Sebagian mulai mengalami demam dan "
        "batuk.",
        "Tim kesehatan dari Dinas Kesehatan Lebak bersama relawan dokter dari Ikatan Dokter "
        "Indonesia (IDI) cabang Lebak membuka layanan kesehatan keliling. Dalam sehari, tim "
        "memeriksa lebih dari 300 warga, sebagian besar mengeluhkan infeksi saluran pernapasan, "
        "diare, dan penyakit kulit.",
        "Gubernur Banten, Andra Soni, meninjau lokasi banjir pada Minggu sore. Ia menginstruksikan "
        "Dinas PUPR Provinsi Banten membangun jembatan permanen dengan konstruksi baja dalam "
        "waktu tiga bulan. “Anggarannya kami siapkan dari belanja tidak terduga provinsi. "
        "Jangan sampai anak-anak terlalu lama menyeberang lewat jembatan darurat,” ujarnya.",
        "Ia juga meminta pemerintah kabupaten memetakan ulang permukiman di bantaran sungai "
        "yang rawan banjir bandang. Warga yang rumahnya hanyut akan direlokasi ke lahan milik "
        "pemerintah daerah di Kec. Cimarga dan mendapat bantuan stimulan Rp50 juta per rumah.",
        "Pemerintah Kabupaten Lebak juga membuka rekening donasi resmi atas nama BPBD Lebak di "
        "Bank Banten. Hingga Minggu malam, donasi yang terkumpul mencapai Rp412 juta dari "
        "1.136 donatur. Penyalurannya, kata Febby, akan diumumkan secara terbuka setiap pekan.",
        "Bagi warga yang kehilangan dokumen kependudukan, Dinas Kependudukan dan Pencatatan "
        "Sipil membuka layanan jemput bola di posko pengungsian. Kartu keluarga, KTP "
        "elektronik, dan akta kelahiran yang hilang atau rusak dapat diterbitkan ulang tanpa "
        "biaya dalam waktu satu hari.",
        "Sementara itu, PLN UP3 Banten Selatan memadamkan sementara aliran listrik ke 2.400 "
        "pelanggan di wilayah terdampak demi keamanan. Manajer PLN UP3 Banten Selatan, Arief "
        "Nugroho, mengatakan listrik akan dinyalakan kembali secara bertahap setelah instalasi "
        "di rumah warga dinyatakan aman.",
        "BPBD mengimbau warga yang tinggal di bantaran sungai untuk segera mengungsi apabila "
        "hujan deras kembali turun lebih dari dua jam. Warga dapat menghubungi pusat "
        "pengendalian operasi di nomor 112 yang aktif 24 jam. (ant/rls)",
    ),
)

SIDANG = Article(
    id="sidang-tipikor-2025",
    slug="mantan-kadis-divonis-enam-tahun-penjara",
    title="Korupsi Proyek Irigasi Rp48,7 Miliar, Mantan Kadis <PSDA> & Rekanan Divonis 6 Tahun",
    dateline="SERANG, PROLOGMEDIA",
    tags=("korupsi", "Pengadilan Tipikor", "irigasi", "KPK"),
    section="Hukum",
    body_html="",
    paragraphs=(
        "Majelis hakim Pengadilan Tindak Pidana Korupsi (Tipikor) pada Pengadilan Negeri Serang "
        "menjatuhkan vonis enam tahun penjara kepada mantan Kepala Dinas Pengelolaan Sumber "
        "Daya Air (PSDA) Provinsi Banten, Drs. H. Ujang Supriatna, M.Si., dalam perkara korupsi "
        "proyek rehabilitasi jaringan irigasi senilai Rp48,7 miliar, Kamis (4/12/2025).",
        "Putusan perkara No. 23/Pid.Sus-TPK/2025/PN Srg itu dibacakan ketua majelis hakim, Dr. "
        "Dedy Adi Saputra, S.H., M.H., dalam sidang terbuka yang dimulai pukul 13.45 WIB dan "
        "berlangsung hampir empat jam. Selain pidana badan, Ujang juga dijatuhi denda Rp500 "
        "juta subsider enam bulan kurungan.",
        "“Menyatakan terdakwa terbukti secara sah dan meyakinkan bersalah melakukan tindak "
        "pidana korupsi secara bersama-sama sebagaimana dakwaan primer,” kata Dedy. Majelis "
        "menilai Ujang melanggar Pasal 2 ayat (1) juncto Pasal 18 Undang-Undang Nomor 31 Tahun "
        "1999 tentang Pemberantasan Tindak Pidana Korupsi.",
        "Dalam perkara yang sama, Direktur PT Karya Tirta Mandiri, Hendra Gunawan, divonis "
        "enam tahun penjara dan diwajibkan membayar uang pengganti Rp11,3 miliar. Apabila uang "
        "pengganti tidak dibayar dalam satu bulan setelah putusan berkekuatan hukum tetap, "
        "harta bendanya akan disita dan dilelang; bila tidak mencukupi, ia harus menjalani "
        "pidana tambahan tiga tahun.",
        "Vonis itu lebih ringan dari tuntutan jaksa penuntut umum (JPU) Kejaksaan Tinggi "
        "Banten yang menuntut keduanya delapan tahun enam bulan penjara. Jaksa Agus "
        "Setiawan, S.H., M.H., dkk. menyatakan pikir-pikir selama tujuh hari sebelum "
        "memutuskan mengajukan banding.",
        "Dalam pertimbangannya, majelis hakim menyebut proyek rehabilitasi jaringan irigasi di "
        "Kab. Pandeglang, Kab. Lebak, dan Kab. Serang tahun anggaran 2021 hingga 2022 itu "
        "dikerjakan tidak sesuai spesifikasi teknis yang tercantum dalam kontrak dan dokumen "
        "perencanaan karena volume pasangan batu kali saluran sekunder di sedikitnya 14 titik "
        "lebih rendah dari yang dibayarkan sementara mutu beton pada bangunan bagi dan "
        "bangunan sadap tidak memenuhi standar yang disyaratkan sehingga banyak bagian "
        "saluran yang retak dan jebol hanya beberapa bulan setelah serah terima pekerjaan "
        "kepada pemerintah provinsi.",
        "Berdasarkan audit Badan Pengawasan Keuangan dan Pembangunan (BPKP) Perwakilan Banten, "
        "kerugian negara mencapai Rp17,6 miliar. Sebagian dana, menurut jaksa, mengalir ke "
        "sejumlah pihak melalui rekening atas nama kerabat terdakwa, termasuk pembelian dua "
        "bidang tanah di Jl. Raya Pandeglang No. 88 dan sebuah mobil mewah.",
        "Hakim anggota, Hj. Rina Marlina, S.H., M.Hum., menyatakan hal yang memberatkan adalah "
        "perbuatan terdakwa tidak mendukung program pemerintah dalam pemberantasan korupsi dan "
        "merugikan petani. “Saluran irigasi yang rusak membuat sekitar 3.400 hektare sawah "
        "tidak mendapat air pada musim tanam. Petani yang menanggung akibatnya,” ujarnya.",
        "Adapun hal yang meringankan, kedua terdakwa bersikap sopan selama persidangan, belum "
        "pernah dihukum, dan memiliki tanggungan keluarga. Hendra juga telah mengembalikan "
        "sebagian kerugian negara sebesar Rp2,5 miliar melalui rekening titipan Kejati Banten.",
        "Usai sidang, penasihat hukum Ujang, Tb. Fahmi Rizal, S.H., menyatakan kliennya "
        "keberatan dengan putusan itu. Menurut dia, Ujang hanya menandatangani dokumen "
        "pencairan berdasarkan laporan konsultan pengawas. “Klien kami tidak pernah menerima "
        "uang sepeser pun. Kami akan pelajari salinan putusan lengkapnya. Kemungkinan besar "
        "kami banding,” ujarnya.",
        "Di luar ruang sidang, puluhan petani dari Kec. Cikeusik dan Kec. Panimbang yang "
        "tergabung dalam Paguyuban Petani Pandeglang menggelar aksi damai. Mereka membawa "
        "poster bertuliskan “Kembalikan Air Kami” dan meminta aparat penegak hukum mengusut "
        "pihak lain yang diduga terlibat.",
        "Koordinator aksi, Ahmad Jaenudin (51), mengatakan sejak saluran jebol pada 2023, "
        "petani di desanya hanya bisa panen sekali setahun. “Dulu kami bisa tanam tiga kali. "
        "Sekarang sekali saja sudah untung,” katanya. Ia memperkirakan kerugian petani di "
        "desanya mencapai Rp4 miliar per tahun.",
        "Peneliti Indonesia Corruption Watch (ICW), Kurnia Ramadhana, menilai vonis enam tahun "
        "belum memberikan efek jera. Menurut dia, hakim semestinya mempertimbangkan dampak "
        "langsung korupsi terhadap ketahanan pangan. Ia juga mendorong Kejati Banten menelusuri "
        "aliran dana hingga tuntas dengan menggandeng PPATK.",
        "Kepala Seksi Penerangan Hukum Kejati Banten, Rangga Adekresna, S.H., mengatakan "
        "penyidik masih mengembangkan perkara ini. Dua orang lainnya, yakni pejabat pembuat "
        "komitmen berinisial AS dan konsultan pengawas berinisial MR, telah ditetapkan sebagai "
        "tersangka dan berkasnya segera dilimpahkan ke pengadilan.",
        "Perkara ini bermula dari laporan masyarakat pada 2023 yang menyebut saluran irigasi "
        "hasil rehabilitasi sudah retak sebelum masa pemeliharaan berakhir. Tim Kejati Banten "
        "kemudian memeriksa 64 saksi, termasuk pejabat dinas, konsultan, dan pekerja lapangan.",
        "Dalam persidangan, ahli konstruksi dari Institut Teknologi Bandung, Prof. Ir. Bambang "
        "Sugiharto, M.Sc., Ph.D., menerangkan uji laboratorium menunjukkan kuat tekan beton "
        "rata-rata hanya 14,5 MPa, jauh di bawah spesifikasi 25 MPa. Selain itu, ketebalan "
        "lantai saluran di sejumlah titik hanya 8 cm dari seharusnya 15 cm.",
        "“Dengan mutu seperti itu, saluran tidak akan bertahan lebih dari dua musim tanam. Ini "
        "bukan soal kurang teliti, ini soal material yang memang dikurangi sejak awal,” kata "
        "Bambang saat bersaksi pada sidang 21 Oktober 2025.",
        "Saksi lain, mantan pelaksana lapangan PT Karya Tirta Mandiri berinisial SN, mengaku "
        "pernah diperintahkan mengurangi campuran semen. Ia menyebut perintah itu datang "
        "langsung dari Hendra melalui pesan singkat. Pesan-pesan itu kemudian disita penyidik "
        "dan dijadikan barang bukti.",
        "Hendra membantah keterangan itu dalam pembelaannya. Ia mengatakan pengurangan volume "
        "terjadi karena perubahan desain yang disetujui dinas. Namun majelis hakim menilai "
        "dalih tersebut tidak didukung dokumen adendum kontrak yang sah.",
        "Majelis juga memerintahkan agar barang bukti berupa dua bidang tanah dan satu unit "
        "mobil dirampas untuk negara. Nilainya diperkirakan Rp6,8 miliar dan akan "
        "diperhitungkan sebagai bagian dari pembayaran uang pengganti.",
        "Sidang vonis itu dijaga ketat oleh 120 personel gabungan dari Polresta Serang Kota "
        "dan Satpol PP. Pengunjung sidang wajib melewati pemeriksaan di pintu masuk dan tidak "
        "diperkenankan membawa spanduk ke dalam ruang sidang.",
        "Perkara korupsi irigasi ini merupakan satu dari 38 perkara korupsi yang disidangkan "
        "Pengadilan Tipikor Serang sepanjang 2025. Menurut catatan pengadilan, total kerugian "
        "negara dalam perkara-perkara itu mencapai Rp214 miliar, naik dibanding tahun lalu.",
        "Ketua Pengadilan Negeri Serang, Dr. H. Rizal Fauzi, S.H., M.H., mengatakan pengadilan "
        "berkomitmen memutus setiap perkara korupsi secara terbuka. Salinan putusan, kata dia, "
        "akan diunggah ke Direktori Putusan Mahkamah Agung paling lambat 14 hari setelah "
        "dibacakan.",
        "Masyarakat yang ingin memantau jadwal sidang dapat mengakses Sistem Informasi "
        "Penelusuran Perkara (SIPP) PN Serang. Di sana tercantum nomor perkara, susunan "
        "majelis, agenda sidang, hingga status upaya hukum para pihak.",
        "Bagi petani di Pandeglang, putusan itu belum mengembalikan air ke sawah mereka. "
        "“Kami tidak mengerti soal pasal-pasal. Kami cuma ingin saluran diperbaiki sebelum "
        "musim tanam,” kata Ahmad Jaenudin sambil menggulung spanduk usai aksi.",
        "Sementara itu, Dinas PUPR Provinsi Banten menyatakan telah menganggarkan Rp21 miliar "
        "pada 2026 untuk memperbaiki saluran yang rusak. Perbaikan ditargetkan rampung sebelum "
        "musim tanam Oktober–Maret. (rls/ed)",
    ),
)

REPORTS = {"jalan": JALAN, "banjir": BANJIR, "sidang": SIDANG}

VARIANTS: dict[str, tuple[ExcerptSettings, str | None]] = {
    "summary": (ExcerptSettings(mode="summary"), None),
    "summary-dateline": (ExcerptSettings(mode="summary", strip_dateline=False, hashtags=5), None),
    "thread": (ExcerptSettings(mode="thread", max_parts=30), None),
    "thread-cut": (
        ExcerptSettings(mode="thread", max_parts=4, number_format="({n}/{total})"),
        None,
    ),
    "thread-anchors": (
        ExcerptSettings(mode="thread", max_parts=30, paragraph_links=True, include_title=False),
        None,
    ),
    "series": (ExcerptSettings(mode="series", series_parts=3), None),
    "series-long-posts": (
        ExcerptSettings(mode="series", max_chars=1500, series_parts=4, hashtags=2),
        None,
    ),
}


def tag_page(tag: str) -> str:
    return "https://siarkan.prologmedia.example.id/kanal/utama/tag/" + tag.lower().replace(" ", "-")


def excerpts_for(article: Article, variant: str) -> list[Excerpt]:
    config, mode = VARIANTS[variant]
    return make_excerpts(
        article, config, permalink=PERMALINK.format(slug=article.slug), tag_url=tag_page, mode=mode
    )


def describe(parts: list[Excerpt], max_chars: int) -> str:
    """A readable dump of the posts: what a reviewer checks once by eye."""
    out: list[str] = []
    for part in parts:
        out.append(
            f"===== post {part.index + 1}/{part.total} · {part.length}/{max_chars} characters"
            f" · anchor {part.anchor} · link {part.link} · tags {list(part.hashtags)}"
        )
        out.append(part.text)
        out.append("----- html")
        out.append(part.html)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("report", sorted(REPORTS))
def test_golden(report: str, variant: str) -> None:
    parts = excerpts_for(REPORTS[report], variant)
    actual = describe(parts, VARIANTS[variant][0].max_chars)
    path = GOLDEN / f"{report}.{variant}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs (UPDATE_GOLDEN=1 to accept)"


def test_reports_are_long() -> None:
    for article in REPORTS.values():
        assert 7000 <= len(article.text) <= 8500, article.slug


# --- the invariants, over the long reports and random settings ---------------------------------

configs = st.builds(
    ExcerptSettings,
    mode=st.sampled_from(["summary", "thread", "series"]),
    max_chars=st.integers(160, 1200),
    max_parts=st.integers(1, 40),
    include_title=st.booleans(),
    strip_dateline=st.booleans(),
    hashtags=st.integers(0, 6),
    paragraph_links=st.booleans(),
    link_text=st.sampled_from(["Baca selengkapnya:", "Selengkapnya:", "Read more →"]),
    number_format=st.sampled_from(["{n}/{total}", "({n}/{total})", "🧵 {n}", "[{n} dari {total}]"]),
    series_parts=st.integers(1, 8),
    series_target_chars=st.integers(200, 3000),
)


@given(report=st.sampled_from(sorted(REPORTS)), config=configs)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_long_reports_under_random_settings(report: str, config: ExcerptSettings) -> None:
    article = REPORTS[report]
    parts = make_excerpts(
        article, config, permalink=PERMALINK.format(slug=article.slug), tag_url=tag_page
    )
    story = " ".join(story_paragraphs(article)).split()
    joined = " ".join(p.body_text for p in parts).split()
    for part in parts:
        assert part.length == mastodon_length(part.text) <= config.max_chars, part.text
        assert "Baca Juga" not in part.text and "(fai/idh)" not in part.text
        assert "(ant/rls)" not in part.text and "(rls/ed)" not in part.text
    if config.mode == "series":
        assert joined == story
    elif config.mode == "thread":
        assert len(parts) <= config.max_parts
        assert joined == story[: len(joined)]
        if len(joined) < len(story):
            assert len(parts) == config.max_parts
    else:
        lead = story_paragraphs(article)[0].split()
        assert len(parts) == 1
        assert joined == lead[: len(joined)]
